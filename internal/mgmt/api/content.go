package api

import "time"

// The orders of tag and manifest lists (the orderby query parameter).
const (
	OrderTimeAsc  = "time_asc"  // oldest first, by last update
	OrderTimeDesc = "time_desc" // newest first, by last update
)

// Attributes lock content: what is not writeEnabled cannot be overwritten,
// not deleteEnabled cannot be deleted, not readEnabled cannot be pulled,
// not listEnabled is left out of the registry API's lists.
type Attributes struct {
	DeleteEnabled bool `json:"deleteEnabled"`
	WriteEnabled  bool `json:"writeEnabled"`
	ReadEnabled   bool `json:"readEnabled"`
	ListEnabled   bool `json:"listEnabled"`
}

// AttributesUpdate is the body of a PATCH of a repository, tag or
// manifest: nil fields keep their value.
type AttributesUpdate struct {
	DeleteEnabled *bool `json:"deleteEnabled,omitempty"`
	WriteEnabled  *bool `json:"writeEnabled,omitempty"`
	ReadEnabled   *bool `json:"readEnabled,omitempty"`
	ListEnabled   *bool `json:"listEnabled,omitempty"`
}

// RepositoryList is the body of GET /api/v1/registries/{name}/repositories:
// repository names in lexical order.
type RepositoryList struct {
	Value []string `json:"value"`
}

// Repository describes one repository.
type Repository struct {
	Registry             string     `json:"registry"` // the login server
	ImageName            string     `json:"imageName"`
	ManifestCount        int        `json:"manifestCount"`
	TagCount             int        `json:"tagCount"`
	CreatedTime          time.Time  `json:"createdTime"`
	LastUpdateTime       time.Time  `json:"lastUpdateTime"`
	ChangeableAttributes Attributes `json:"changeableAttributes"`
}

// Tag describes one tag of a repository.
type Tag struct {
	Name                 string     `json:"name"`
	Digest               string     `json:"digest"`
	CreatedTime          time.Time  `json:"createdTime"`
	LastUpdateTime       time.Time  `json:"lastUpdateTime"`
	ChangeableAttributes Attributes `json:"changeableAttributes"`
}

// TagList is the body of GET /api/v1/registries/{name}/tags.
type TagList struct {
	Value []Tag `json:"value"`
}

// Manifest describes one manifest of a repository.
type Manifest struct {
	Digest               string     `json:"digest"`
	MediaType            string     `json:"mediaType"`
	ArtifactType         string     `json:"artifactType,omitempty"`
	Size                 int64      `json:"size"` // in bytes, as the metadata store records it
	CreatedTime          time.Time  `json:"createdTime"`
	Tags                 []string   `json:"tags"`
	ChangeableAttributes Attributes `json:"changeableAttributes"`
}

// ManifestList is the body of GET /api/v1/registries/{name}/manifests.
type ManifestList struct {
	Value []Manifest `json:"value"`
}
