// Package metadatatest is the test suite every berth.MetadataStore
// implementation runs: Run checks each method and each error kind of the
// interface on fresh stores, Reopen checks that acknowledged writes survive
// closing and opening the store again.
package metadatatest
