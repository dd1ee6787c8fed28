// Package metadatatest is the test suite every metadata store implementation
// runs: Run checks each method and each error kind of berth.MetadataStore,
// berth.IdentityStore, berth.KeyStore and berth.ContentAdmin on fresh stores;
// Reopen checks that acknowledged writes survive closing and opening the
// store again; SeedInitialSchema and CheckUpgraded check that content written
// under the initial schema survives the migrations that follow it.
package metadatatest
