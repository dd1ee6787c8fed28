// Package sqlite opens berth's metadata store on an SQLite file, the
// embedded default of a single node. The file is in WAL mode and every
// commit is synced to stable storage before it is acknowledged. Writes go
// through one connection, so concurrent writers of the process queue instead
// of failing; reads use a pool of their own and run beside them.
package sqlite
