package berth

import (
	"context"
	"io"

	"github.com/opencontainers/go-digest"
)

// BlobStore keeps the bytes of blobs and of uploads in progress, separately
// for every registry. It knows nothing of repositories or manifests; the
// MetadataStore decides what is visible. Errors are *Error; a missing blob or
// upload is KindNotFound.
type BlobStore interface {
	// Stat returns the size of a committed blob.
	Stat(ctx context.Context, registry string, dgst digest.Digest) (int64, error)
	// Get opens a committed blob for reading from offset; length < 0 reads to
	// the end. The caller checks the range against Stat first.
	Get(ctx context.Context, registry string, dgst digest.Digest, offset, length int64) (io.ReadCloser, error)
	// Delete removes a committed blob. Deleting a missing blob is KindNotFound.
	Delete(ctx context.Context, registry string, dgst digest.Digest) error

	// WriteUpload durably writes r into upload id at offset, discarding
	// whatever the upload held at or past offset (so a write that failed
	// half-way can be retried from the last acknowledged offset). It returns
	// the number of bytes written; when it returns nil they are on stable
	// storage. An upload springs into existence on its first write at offset 0.
	WriteUpload(ctx context.Context, registry, id string, offset int64, r io.Reader) (int64, error)
	// ReadUpload opens the first size bytes of an upload (used to rebuild a
	// hash state that could not be kept).
	ReadUpload(ctx context.Context, registry, id string, size int64) (io.ReadCloser, error)
	// CommitUpload makes the first size bytes of upload id the blob dgst and
	// removes the upload. The caller has verified the digest. If the blob
	// already exists the upload is simply removed. Commit is atomic: a crash
	// leaves either no blob or the whole blob.
	CommitUpload(ctx context.Context, registry, id string, size int64, dgst digest.Digest) error
	// AbortUpload removes an upload's bytes; a missing upload is not an error.
	AbortUpload(ctx context.Context, registry, id string) error
}

// MetadataStore is the transactional record of what each registry holds:
// repositories, which blobs each repository may read, manifests, tags and
// upload sessions. Every method is atomic. Errors are *Error with a message
// that names the cause.
type MetadataStore interface {
	RegistryStore
	BlobIndex
	ManifestStore
	UploadStore
	Close() error
}

// RegistryStore records registries.
type RegistryStore interface {
	// CreateRegistry records a new registry; KindExists if the name is taken.
	CreateRegistry(ctx context.Context, r Registry) error
	// Registry returns a registry by name; KindNotFound if there is none.
	Registry(ctx context.Context, name string) (Registry, error)
	// RegistryByAlias returns the registry that answers for host (a name
	// without port); KindNotFound if none.
	RegistryByAlias(ctx context.Context, host string) (Registry, error)
	// Registries lists every registry ordered by name.
	Registries(ctx context.Context) ([]Registry, error)
}

// BlobIndex records which blobs exist in a registry and which repositories
// may read them.
type BlobIndex interface {
	// LinkBlob records that blob d of size bytes exists in the registry and
	// that repository repo may read it; the repository is created if needed.
	// Linking twice is not an error.
	LinkBlob(ctx context.Context, registry, repo string, d digest.Digest, size int64) error
	// Blob returns the size of blob d if repository repo may read it;
	// KindNotFound otherwise.
	Blob(ctx context.Context, registry, repo string, d digest.Digest) (int64, error)
	// RegistryBlob returns the size of blob d if any repository of the
	// registry holds it; KindNotFound otherwise.
	RegistryBlob(ctx context.Context, registry string, d digest.Digest) (int64, error)
	// UnlinkBlob removes repo's link to blob d; KindNotFound if there is none.
	UnlinkBlob(ctx context.Context, registry, repo string, d digest.Digest) error
}

// ManifestStore records manifests, tags and the repository catalog.
type ManifestStore interface {
	// PutManifest stores m in repo and, when tag is not "", points tag at it,
	// in one transaction. Every reference of m must already be readable in
	// repo (blobs linked, child manifests stored), or nothing is written and
	// the error is KindInvalid with an *UnknownReferenceError cause.
	// Storing an existing manifest again is not an error.
	PutManifest(ctx context.Context, registry, repo string, m *Manifest, tag string) error
	// Manifest returns manifest d of repo; KindNotFound if it is not there.
	Manifest(ctx context.Context, registry, repo string, d digest.Digest) (*Manifest, error)
	// Tag returns the digest tag points to; KindNotFound if no such tag.
	Tag(ctx context.Context, registry, repo, tag string) (digest.Digest, error)
	// DeleteManifest removes manifest d from repo together with every tag
	// pointing to it; KindNotFound if it is not there.
	DeleteManifest(ctx context.Context, registry, repo string, d digest.Digest) error
	// DeleteTag removes a tag (not the manifest); KindNotFound if no such tag.
	DeleteTag(ctx context.Context, registry, repo, tag string) error
	// Tags lists up to n tags of repo in lexical order, starting after last
	// ("" for the start; n <= 0 for no limit). KindNotFound if the
	// repository does not exist.
	Tags(ctx context.Context, registry, repo, last string, n int) ([]string, error)
	// Repositories lists up to n repository names of the registry in lexical
	// order after last (n <= 0 for no limit).
	Repositories(ctx context.Context, registry, last string, n int) ([]string, error)
	// Referrers lists the manifests of repo whose subject is d, filtered by
	// artifactType when it is not "", ordered by digest.
	Referrers(ctx context.Context, registry, repo string, d digest.Digest, artifactType string) ([]Descriptor, error)
	// RepositoryExists reports whether repo exists in the registry.
	RepositoryExists(ctx context.Context, registry, repo string) (bool, error)
}

// UploadStore keeps upload sessions.
type UploadStore interface {
	// CreateUpload records a new upload session.
	CreateUpload(ctx context.Context, u Upload) error
	// Upload returns a session; KindNotFound if it does not exist.
	Upload(ctx context.Context, registry, id string) (Upload, error)
	// AdvanceUpload stores u if the stored session is still at offset from;
	// KindConflict if another writer moved it, KindNotFound if it is gone.
	AdvanceUpload(ctx context.Context, u Upload, from int64) error
	// DeleteUpload removes a session; KindNotFound if it does not exist.
	DeleteUpload(ctx context.Context, registry, id string) error
	// CloseUpload marks session u.ID closed (cancelled), recording it if it
	// has no record yet, so that Upload returns it with Closed set and
	// CreateUpload of the same id fails with KindExists.
	CloseUpload(ctx context.Context, u Upload) error
}

// UnknownReferenceError is the cause of a PutManifest refused because the
// manifest points to content the repository does not hold.
type UnknownReferenceError struct {
	Reference
}

func (e *UnknownReferenceError) Error() string {
	if e.Manifest {
		return "manifest references manifest " + e.Digest.String() + " which is not in this repository"
	}
	return "manifest references blob " + e.Digest.String() + " which is not in this repository"
}
