package oci

import (
	"encoding/json"
	"fmt"
	"mime"
	"strings"

	"berth/internal/berth"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Manifest media types berth accepts.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
)

// MaxManifestSize is the largest manifest accepted (the spec asks registries
// to accept at least 4 MiB).
const MaxManifestSize = 4 << 20

var indexTypes = map[string]bool{v1.MediaTypeImageIndex: true, MediaTypeDockerManifestList: true}

var manifestTypes = map[string]bool{
	v1.MediaTypeImageManifest:   true,
	v1.MediaTypeImageIndex:      true,
	MediaTypeDockerManifest:     true,
	MediaTypeDockerManifestList: true,
}

// wireManifest holds the fields of every manifest kind berth reads.
type wireManifest struct {
	SchemaVersion *int               `json:"schemaVersion"`
	MediaType     string             `json:"mediaType"`
	ArtifactType  string             `json:"artifactType"`
	Config        *wireDescriptor    `json:"config"`
	Layers        []wireDescriptor   `json:"layers"`
	Manifests     []wireDescriptor   `json:"manifests"`
	Subject       *wireDescriptor    `json:"subject"`
	Annotations   map[string]string  `json:"annotations"`
	Signatures    []json.RawMessage  `json:"signatures"`
	FSLayers      []json.RawMessage  `json:"fsLayers"`
	Blobs         *[]json.RawMessage `json:"blobs"`
}

type wireDescriptor struct {
	MediaType string        `json:"mediaType"`
	Digest    digest.Digest `json:"digest"`
	Size      *int64        `json:"size"`
	URLs      []string      `json:"urls"`
}

// parseManifest validates payload as a manifest pushed with the given
// Content-Type and returns what berth stores of it (without Digest). Errors
// are *Error with code MANIFEST_INVALID and a message naming the problem.
func parseManifest(contentType string, payload []byte) (*berth.Manifest, error) {
	var w wireManifest
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, invalidManifest("manifest is not valid JSON: %v", err)
	}
	ct := ""
	if contentType != "" {
		if t, _, err := mime.ParseMediaType(contentType); err == nil {
			ct = t
		}
	}
	mt, err := manifestMediaType(ct, &w)
	if err != nil {
		return nil, err
	}
	if w.SchemaVersion == nil || *w.SchemaVersion != 2 {
		return nil, invalidManifest("schemaVersion must be 2")
	}
	m := &berth.Manifest{MediaType: mt, ArtifactType: w.ArtifactType, Annotations: w.Annotations, Payload: payload}
	if indexTypes[mt] {
		if w.Config != nil || w.Layers != nil {
			return nil, invalidManifest("an index (%s) must not have config or layers", mt)
		}
		if w.Manifests == nil {
			return nil, invalidManifest("an index must have a manifests array")
		}
		for i, d := range w.Manifests {
			if err := checkDescriptor(d, fmt.Sprintf("manifests[%d]", i)); err != nil {
				return nil, err
			}
			m.References = append(m.References, berth.Reference{Digest: d.Digest, Manifest: true})
		}
	} else {
		if w.Manifests != nil {
			return nil, invalidManifest("an image manifest (%s) must not have a manifests array", mt)
		}
		if w.Config == nil {
			return nil, invalidManifest("an image manifest must have a config descriptor")
		}
		if err := checkDescriptor(*w.Config, "config"); err != nil {
			return nil, err
		}
		m.References = append(m.References, berth.Reference{Digest: w.Config.Digest})
		if m.ArtifactType == "" && mt == v1.MediaTypeImageManifest {
			m.ArtifactType = w.Config.MediaType
		}
		for i, d := range w.Layers {
			if err := checkDescriptor(d, fmt.Sprintf("layers[%d]", i)); err != nil {
				return nil, err
			}
			if nonDistributable(d) {
				continue
			}
			m.References = append(m.References, berth.Reference{Digest: d.Digest})
		}
	}
	if w.Subject != nil {
		if err := checkDescriptor(*w.Subject, "subject"); err != nil {
			return nil, err
		}
		m.Subject = w.Subject.Digest
	}
	return m, nil
}

// manifestMediaType decides the media type from the Content-Type and the
// mediaType field; where both are given they must agree.
func manifestMediaType(ct string, w *wireManifest) (string, error) {
	if w.Signatures != nil || w.FSLayers != nil {
		return "", &Error{Status: 415, Code: CodeManifestInvalid,
			Message: "Docker schema 1 manifests are not supported; push a schema 2 or OCI manifest"}
	}
	if ct == "application/json" || ct == "application/octet-stream" {
		ct = ""
	}
	mt := w.MediaType
	switch {
	case mt != "" && ct != "" && mt != ct:
		return "", invalidManifest("Content-Type %q does not match the manifest's mediaType %q", ct, mt)
	case mt == "" && ct != "":
		mt = ct
	case mt == "" && w.Manifests != nil:
		mt = v1.MediaTypeImageIndex
	case mt == "":
		mt = v1.MediaTypeImageManifest
	}
	if !manifestTypes[mt] {
		return "", &Error{Status: 415, Code: CodeManifestInvalid,
			Message: fmt.Sprintf("manifest media type %q is not supported; use an OCI image manifest or index, or a Docker schema 2 manifest or manifest list", mt)}
	}
	return mt, nil
}

func checkDescriptor(d wireDescriptor, where string) error {
	if d.MediaType == "" {
		return invalidManifest("%s: mediaType is required", where)
	}
	if err := d.Digest.Validate(); err != nil {
		return invalidManifest("%s: digest %q is invalid: %v", where, d.Digest, err)
	}
	if d.Size == nil || *d.Size < 0 {
		return invalidManifest("%s: size must be present and not negative", where)
	}
	return nil
}

// nonDistributable reports whether a layer may be absent from the registry:
// a non-distributable (foreign) layer that names where to fetch it.
func nonDistributable(d wireDescriptor) bool {
	foreign := strings.Contains(d.MediaType, ".nondistributable.") || d.MediaType == mediaTypeDockerForeignLayer
	return foreign && len(d.URLs) > 0
}

func invalidManifest(format string, args ...any) *Error {
	return &Error{Status: 400, Code: CodeManifestInvalid, Message: fmt.Sprintf(format, args...)}
}
