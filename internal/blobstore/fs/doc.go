// Package fs implements berth.BlobStore on a local file system, for the
// embedded single-node mode.
//
// Every registry has a directory of its own under the store's root, and blobs
// are never shared between registries:
//
//	<root>/<registry>/blobs/<algorithm>/<first two hex digits>/<hex>
//	<root>/<registry>/uploads/<upload id>
//
// Registry names, upload ids and digests are validated before any path is
// built from them, so no name can reach outside its registry's directory.
//
// Writes are durable when they return: upload bytes are fsynced, and so is
// every directory entry a write creates. A blob becomes visible by renaming
// its fully synced upload file into place, so a crash leaves either no blob
// or the whole blob.
//
// Reads are shaped for zero-copy serving: Get returns the *os.File itself, or
// a reader whose WriteTo hands net/http an *io.LimitedReader over the
// *os.File, so that a response writer can use sendfile.
package fs
