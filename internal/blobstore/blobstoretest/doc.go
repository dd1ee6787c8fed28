// Package blobstoretest is the one test suite that every berth.BlobStore
// implementation runs against its real backend, so that the file system, S3
// and Azure Blob stores behave the same way. A store's own test calls Run
// with a constructor:
//
//	func TestStore(t *testing.T) {
//		blobstoretest.Run(t, func(t *testing.T) berth.BlobStore {
//			s, err := fs.New(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The suite pins the behaviour the rest of berth relies on: error kinds,
// upload offsets and retries, atomic and idempotent commits, per-registry
// isolation and the validation of registry names, upload ids and digests.
// An optional capability (PutBlob, storing a whole blob from one stream) has
// cases of its own, which run only for stores that have it.
package blobstoretest
