// Package archtest holds the test that keeps the package layout honest: it
// reads the package table of docs/ARCHITECTURE.md and checks every package's
// imports against it.
package archtest
