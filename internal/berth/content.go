package berth

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"
)

// RepositoryInfo describes a repository for the management API.
type RepositoryInfo struct {
	Registry      string
	Name          string
	Attributes    Attributes
	ManifestCount int
	TagCount      int
	CreatedAt     time.Time
	UpdatedAt     time.Time // last push of a manifest or tag
}

// TagInfo describes a tag for the management API.
type TagInfo struct {
	Name       string
	Digest     digest.Digest
	Attributes Attributes
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ManifestInfo describes a manifest for the management API.
type ManifestInfo struct {
	Digest       digest.Digest
	MediaType    string
	ArtifactType string
	Size         int64
	Tags         []string
	Attributes   Attributes
	CreatedAt    time.Time
}

// ContentAdmin is the management view of a registry's content: listing with
// metadata, locking by attributes, deleting whole repositories. Errors are
// *Error; a missing repository, tag or manifest is KindNotFound, and a change
// refused by an attribute is KindDenied naming the attribute.
type ContentAdmin interface {
	// Repository describes one repository.
	Repository(ctx context.Context, registry, repo string) (RepositoryInfo, error)
	// SetRepositoryAttributes replaces a repository's attributes.
	SetRepositoryAttributes(ctx context.Context, registry, repo string, a Attributes) error
	// DeleteRepository removes a repository with its manifests, tags and
	// blob links; KindDenied if its deleteEnabled is false.
	DeleteRepository(ctx context.Context, registry, repo string) error
	// TagInfos lists a repository's tags ordered by name.
	TagInfos(ctx context.Context, registry, repo string) ([]TagInfo, error)
	// TagInfo describes one tag.
	TagInfo(ctx context.Context, registry, repo, tag string) (TagInfo, error)
	// SetTagAttributes replaces a tag's attributes.
	SetTagAttributes(ctx context.Context, registry, repo, tag string, a Attributes) error
	// ManifestInfos lists a repository's manifests ordered by creation time,
	// newest first.
	ManifestInfos(ctx context.Context, registry, repo string) ([]ManifestInfo, error)
	// ManifestInfo describes one manifest.
	ManifestInfo(ctx context.Context, registry, repo string, d digest.Digest) (ManifestInfo, error)
	// SetManifestAttributes replaces a manifest's attributes.
	SetManifestAttributes(ctx context.Context, registry, repo string, d digest.Digest, a Attributes) error
}
