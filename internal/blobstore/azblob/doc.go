// Package azblob implements berth.BlobStore on Azure Blob Storage, for
// nodes of a region that share one storage account. It authenticates with
// the account's shared key, keeps everything in one container, and can mint
// the service's own read-only SAS URLs for the shared-storage download mode.
//
// Every registry has a prefix of its own in the container, and blobs are
// never shared between registries:
//
//	<registry>/blobs/<algorithm>/<hex>
//	<registry>/uploads/<upload id>
//
// Registry names, upload ids and digests are validated before any blob name
// is built from them, so no name can reach outside its registry's prefix.
//
// An upload is a block blob whose committed block list is the upload's
// content. WriteUpload stages the new bytes as blocks and then commits a
// block list made of the blocks that lie before the write's offset (the part
// of a block that straddles the offset is staged again as a block of its
// own) followed by the new blocks. Put Block List replaces the upload's
// content in one step and is durable when it returns, so a failed write
// leaves the upload as it was at the last acknowledged offset. Each commit
// is conditional on the ETag the block list was read at: a concurrent writer
// of the same upload gets KindConflict instead of silently interleaving.
// Blocks are at most 8 MiB and a blob holds at most 50,000 of them; every
// write adds at least one, so an upload written in tiny chunks can run out
// of blocks, which is KindTooLarge.
//
// CommitUpload turns an upload into a blob on the server: it cuts the upload
// down to the committed size and starts a Copy Blob into the blob's name,
// conditional on the blob not existing yet. No byte passes through the node;
// the service authorizes the copy's source, which is in the same account,
// by the request's shared key.
// A blob whose copy has not finished (copy status pending, failed or
// aborted) does not exist for Stat, Get and CommitUpload, so a crash at any
// point leaves either no blob or the whole blob; a copy that was started is
// finished by the service even when the node is gone.
//
// In the shared-storage mode, SignedURL and Locator hand clients a service
// SAS URL that can read exactly one blob, for a short time.
package azblob
