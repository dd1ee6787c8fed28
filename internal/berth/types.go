package berth

import (
	"time"

	"github.com/opencontainers/go-digest"
)

// DefaultRegion is the region a node serves when none is configured.
const DefaultRegion = "local"

// Registry is a tenant: a namespace of repositories with its own login server,
// its own blob storage and, later, its own keys and data endpoints.
type Registry struct {
	Name      string   // unique, lowercase alphanumerics; also the first label of the login server
	Location  string   // the home region
	Aliases   []string // extra host names that reach this registry (e.g. "localhost")
	Settings           // SKU and feature switches
	CreatedAt time.Time
}

// Descriptor identifies a piece of content by digest, size and media type.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       digest.Digest     `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// Reference is one piece of content a manifest points to.
type Reference struct {
	Digest   digest.Digest
	Manifest bool // a child manifest of an index (else a blob: config or layer)
}

// Manifest is a stored manifest: its exact bytes and what was parsed from them.
type Manifest struct {
	Digest       digest.Digest
	MediaType    string
	ArtifactType string            // the artifactType, or the config media type of an artifact
	Subject      digest.Digest     // the subject's digest, "" when none
	Annotations  map[string]string // the manifest's annotations (for referrers)
	Payload      []byte
	References   []Reference // every blob and child manifest it points to
	CreatedAt    time.Time
}

// Size returns the length of the manifest's payload.
func (m *Manifest) Size() int64 { return int64(len(m.Payload)) }

// Descriptor returns the descriptor of m as the referrers API lists it.
func (m *Manifest) Descriptor() Descriptor {
	return Descriptor{
		MediaType:    m.MediaType,
		Digest:       m.Digest,
		Size:         m.Size(),
		ArtifactType: m.ArtifactType,
		Annotations:  m.Annotations,
	}
}

// Upload is the durable state of a blob upload session. It is enough to
// resume the session on any node after a restart: the bytes live in the blob
// store, the running hash state here.
type Upload struct {
	ID         string
	Registry   string
	Repository string
	Offset     int64  // bytes received and hashed so far
	Algorithm  string // digest algorithm of HashState ("sha256", "sha512")
	HashState  []byte // marshalled hash state after Offset bytes
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Closed marks a session that was completed or cancelled: it takes no
	// more data and its id is never used again.
	Closed bool
}
