// Package blobstore is the home of the berth.BlobStore implementations: fs
// keeps blobs in a local directory tree, and blobstoretest is the one test
// suite that every implementation runs. The implementations never import one
// another; cmd/berth picks one and wires it in. This package itself holds no
// code.
package blobstore
