// Package metadata implements berth.MetadataStore, berth.IdentityStore,
// berth.KeyStore and berth.ContentAdmin over database/sql, once for every SQL
// database berth supports. One schema, kept as numbered migrations embedded
// in the package, serves SQLite and PostgreSQL; a Dialect holds the few
// differences, and the sqlite and postgres packages open the databases and
// supply it.
package metadata
