// Package postgres opens berth's metadata store on a PostgreSQL database,
// the store that the stateless nodes of a scale-out region share. Nodes that
// start together migrate the schema one at a time under an advisory lock.
package postgres
