// Package e2e holds the end-to-end tests of berth: each test starts the real
// berth binary on a loopback port with its own data directory and drives it
// with other people's clients (the go-containerregistry library, crane,
// regctl and skopeo) or with raw HTTP where the protocol itself is under test.
//
// TestMain builds ./cmd/berth once; set BERTH_BIN to test a binary built
// elsewhere. A client binary that is missing skips its test, except when CI
// is "true", where it fails: scripts/test.sh installs every one of them.
// With -short no server is started and every test is skipped.
package e2e
