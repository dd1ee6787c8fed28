package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// refNameAnnotation names an image inside an OCI layout, as skopeo's and
// regctl's layout references expect.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// remoteOptions are the go-containerregistry options of every library call:
// bounded in time, and without the referrers tag fallback, so that the
// referrers API of the server itself is what answers.
func remoteOptions(ctx context.Context, extra ...remote.Option) []remote.Option {
	return append([]remote.Option{
		remote.WithContext(ctx),
		remote.WithReferrersTagFallback(false),
	}, extra...)
}

// parseRef parses a reference to a plain-HTTP registry.
func parseRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatalf("parsing reference %q: %v", s, err)
	}
	return r
}

// parseRepo parses a repository of a plain-HTTP registry.
func parseRepo(t *testing.T, s string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(s, name.Insecure)
	if err != nil {
		t.Fatalf("parsing repository %q: %v", s, err)
	}
	return r
}

// ociImage returns a random image with OCI media types and the given number
// of gzip layers, each a tarball holding size random bytes.
func ociImage(t *testing.T, layers int, size int64) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for range layers {
		l, err := random.Layer(size, types.OCILayer)
		if err != nil {
			t.Fatalf("random layer: %v", err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatalf("appending layer: %v", err)
		}
	}
	return img
}

// ociIndex returns an OCI index of one random image per platform.
func ociIndex(t *testing.T, platforms ...v1.Platform) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		img := ociImage(t, 2, 2048)
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatalf("config file: %v", err)
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatalf("config file: %v", err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &p},
		})
	}
	// go-containerregistry copies the config media type of each image into
	// its descriptor as artifactType; older clients (skopeo 1.9) drop that
	// field when they rewrite a list, and so cannot keep its digest.
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatalf("index manifest: %v", err)
	}
	im = im.DeepCopy()
	for i := range im.Manifests {
		im.Manifests[i].ArtifactType = ""
	}
	raw, err := json.Marshal(im)
	if err != nil {
		t.Fatal(err)
	}
	return &rawIndex{base: idx, raw: raw}
}

// rawIndex is an index whose manifest bytes are given; its children come
// from base.
type rawIndex struct {
	base v1.ImageIndex
	raw  []byte
}

func (r *rawIndex) MediaType() (types.MediaType, error) { return r.base.MediaType() }
func (r *rawIndex) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r *rawIndex) Digest() (v1.Hash, error)            { return partial.Digest(r) }
func (r *rawIndex) Size() (int64, error)                { return partial.Size(r) }
func (r *rawIndex) IndexManifest() (*v1.IndexManifest, error) {
	return v1.ParseIndexManifest(bytes.NewReader(r.raw))
}
func (r *rawIndex) Image(h v1.Hash) (v1.Image, error)           { return r.base.Image(h) }
func (r *rawIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) { return r.base.ImageIndex(h) }

// writeLayout writes img into a new OCI layout directory under the tag
// name tag and returns the directory.
func writeLayout(t *testing.T, tag string, img v1.Image) string {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatalf("creating OCI layout: %v", err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refNameAnnotation: tag})); err != nil {
		t.Fatalf("writing image to OCI layout: %v", err)
	}
	return dir
}

// writeLayoutIndex writes idx into a new OCI layout directory under tag.
func writeLayoutIndex(t *testing.T, tag string, idx v1.ImageIndex) string {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatalf("creating OCI layout: %v", err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{refNameAnnotation: tag})); err != nil {
		t.Fatalf("writing index to OCI layout: %v", err)
	}
	return dir
}

// layoutEntry returns the descriptor that the layout in dir names tag.
func layoutEntry(t *testing.T, dir, tag string) v1.Descriptor {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("reading OCI layout %s: %v", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatalf("reading index.json of %s: %v", dir, err)
	}
	for _, d := range im.Manifests {
		if d.Annotations[refNameAnnotation] == tag {
			return d
		}
	}
	if len(im.Manifests) == 1 && tag == "" {
		return im.Manifests[0]
	}
	t.Fatalf("OCI layout %s has no image named %q: %+v", dir, tag, im.Manifests)
	return v1.Descriptor{}
}

// digestOf returns the digest of anything that has one.
func digestOf(t *testing.T, x interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := x.Digest()
	if err != nil {
		t.Fatalf("digest: %v", err)
	}
	return h
}

// layerDigests returns the digests of img's layers, in order.
func layerDigests(t *testing.T, img v1.Image) []v1.Hash {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	var ds []v1.Hash
	for _, l := range m.Layers {
		ds = append(ds, l.Digest)
	}
	return ds
}

// sha256Digest returns the sha256 digest of b in the "sha256:<hex>" form.
func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// statusCode returns the HTTP status of a go-containerregistry error, or 0.
func statusCode(err error) int {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode
	}
	return 0
}

// httpClient is the client of raw protocol requests.
var httpClient = &http.Client{Timeout: 30 * time.Second}

// do sends a raw request and returns the response with its body read. A
// Host entry of header sets the request's Host.
func do(t *testing.T, method, url string, body io.Reader, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	for k, vs := range header {
		if k == "Host" {
			req.Host = vs[0]
			continue
		}
		req.Header[k] = vs
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, b
}
