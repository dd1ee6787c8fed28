package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

const (
	sbomType      = "application/vnd.example.sbom.v1+json"
	signatureType = "application/vnd.example.signature.v1"
	emptyJSONType = "application/vnd.oci.empty.v1+json"
)

// TestLibrary pushes and pulls with the go-containerregistry library: images,
// an index, referrers, tag listing, the catalog and deletion.
func TestLibrary(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := testContext(t, 2*time.Minute)
	opts := remoteOptions(ctx)
	host := s.addr()

	alpha, err := random.Image(4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	beta := ociImage(t, 4, 8192)

	t.Run("images", func(t *testing.T) {
		for repo, img := range map[string]v1.Image{"lib/alpha": alpha, "lib/beta": beta} {
			ref := parseRef(t, host+"/"+repo+":v1")
			if err := remote.Write(ref, img, opts...); err != nil {
				t.Fatalf("remote.Write %s: %v", ref, err)
			}
			got, err := remote.Image(ref, opts...)
			if err != nil {
				t.Fatalf("remote.Image %s: %v", ref, err)
			}
			if err := validate.Image(got); err != nil {
				t.Errorf("validate.Image %s: %v", ref, err)
			}
			if g, w := digestOf(t, got), digestOf(t, img); g != w {
				t.Errorf("%s: pulled digest %s, pushed %s", ref, g, w)
			}
			if g, w := layerDigests(t, got), layerDigests(t, img); !slices.Equal(g, w) {
				t.Errorf("%s: pulled layers %v, pushed %v", ref, g, w)
			}
		}
	})

	t.Run("index", func(t *testing.T) {
		idx, err := random.Index(2048, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		ref := parseRef(t, host+"/lib/multi:latest")
		if err := remote.WriteIndex(ref, idx, opts...); err != nil {
			t.Fatalf("remote.WriteIndex: %v", err)
		}
		got, err := remote.Index(ref, opts...)
		if err != nil {
			t.Fatalf("remote.Index: %v", err)
		}
		if err := validate.Index(got); err != nil {
			t.Errorf("validate.Index: %v", err)
		}
		if g, w := digestOf(t, got), digestOf(t, idx); g != w {
			t.Errorf("pulled index digest %s, pushed %s", g, w)
		}
		// A child manifest is reachable by digest on its own.
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		child := parseRef(t, host+"/lib/multi@"+im.Manifests[1].Digest.String())
		img, err := remote.Image(child, opts...)
		if err != nil {
			t.Fatalf("remote.Image %s: %v", child, err)
		}
		if err := validate.Image(img); err != nil {
			t.Errorf("validate.Image %s: %v", child, err)
		}
	})

	t.Run("referrers", func(t *testing.T) {
		testReferrers(t, s, alpha)
	})

	t.Run("tags", func(t *testing.T) {
		repo := parseRepo(t, host+"/lib/alpha")
		for _, tag := range []string{"v2", "v3", "latest"} {
			if err := remote.Tag(repo.Tag(tag), alpha, opts...); err != nil {
				t.Fatalf("remote.Tag %s: %v", tag, err)
			}
		}
		tags, err := remote.List(repo, opts...)
		if err != nil {
			t.Fatalf("remote.List: %v", err)
		}
		if want := []string{"latest", "v1", "v2", "v3"}; !slices.Equal(tags, want) {
			t.Errorf("tags = %v, want %v (lexically sorted)", tags, want)
		}
		// Pagination: n=2 gives the first two and a Link to the rest.
		resp, body := do(t, http.MethodGet, s.url("/v2/lib/alpha/tags/list?n=2"), nil, nil)
		var page struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &page) != nil {
			t.Fatalf("GET tags/list?n=2: %s %s", resp.Status, body)
		}
		if want := []string{"latest", "v1"}; page.Name != "lib/alpha" || !slices.Equal(page.Tags, want) {
			t.Errorf("GET tags/list?n=2 = %s, want name lib/alpha and tags %v", body, want)
		}
		link := resp.Header.Get("Link")
		if !strings.Contains(link, `rel="next"`) || !strings.Contains(link, "last=v1") {
			t.Errorf("GET tags/list?n=2: Link = %q, want a next link with last=v1", link)
		}
		resp, body = do(t, http.MethodGet, s.url("/v2/lib/alpha/tags/list?n=2&last=v1"), nil, nil)
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &page) != nil {
			t.Fatalf("GET tags/list?n=2&last=v1: %s %s", resp.Status, body)
		}
		if want := []string{"v2", "v3"}; !slices.Equal(page.Tags, want) {
			t.Errorf("GET tags/list?n=2&last=v1 = %s, want tags %v", body, want)
		}
	})

	t.Run("catalog", func(t *testing.T) {
		repos, err := remote.Catalog(ctx, parseRepo(t, host+"/x").Registry, opts...)
		if err != nil {
			t.Fatalf("remote.Catalog: %v", err)
		}
		for _, want := range []string{"lib/alpha", "lib/beta", "lib/multi"} {
			if !slices.Contains(repos, want) {
				t.Errorf("catalog %v lacks %s", repos, want)
			}
		}
		if !slices.IsSorted(repos) {
			t.Errorf("catalog %v is not sorted", repos)
		}
	})

	t.Run("delete", func(t *testing.T) {
		d := digestOf(t, beta)
		byDigest := parseRef(t, host+"/lib/beta@"+d.String())
		if err := remote.Delete(byDigest, opts...); err != nil {
			t.Fatalf("remote.Delete %s: %v", byDigest, err)
		}
		if _, err := remote.Get(byDigest, opts...); statusCode(err) != http.StatusNotFound {
			t.Errorf("GET %s after delete: err = %v, want 404", byDigest, err)
		}
		if _, err := remote.Head(parseRef(t, host+"/lib/beta:v1"), opts...); statusCode(err) != http.StatusNotFound {
			t.Errorf("HEAD lib/beta:v1 after its manifest was deleted: err = %v, want 404", err)
		}
		resp, body := do(t, http.MethodGet, s.url("/v2/lib/beta/manifests/"+d.String()), nil, nil)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "MANIFEST_UNKNOWN") {
			t.Errorf("GET deleted manifest: %s %s, want 404 MANIFEST_UNKNOWN", resp.Status, body)
		}
		// The other repository is untouched.
		if _, err := remote.Image(parseRef(t, host+"/lib/alpha:v1"), opts...); err != nil {
			t.Errorf("lib/alpha:v1 after deleting lib/beta: %v", err)
		}
	})
}

// testReferrers attaches two artifacts to subject in lib/alpha, one through
// the library and one as a raw manifest PUT, and lists them through the
// referrers API with and without an artifactType filter.
func testReferrers(t *testing.T, s *server, subject v1.Image) {
	ctx := testContext(t, time.Minute)
	opts := remoteOptions(ctx)
	repo := parseRepo(t, s.addr()+"/lib/alpha")
	subjDigest := digestOf(t, subject)
	subjDesc, err := partialDescriptor(subject)
	if err != nil {
		t.Fatal(err)
	}

	// An artifact whose type is its config media type.
	sbom := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	sbom = mutate.ConfigMediaType(sbom, sbomType)
	sbom, err = mutate.AppendLayers(sbom, static.NewLayer([]byte(`{"packages":[]}`), "application/spdx+json"))
	if err != nil {
		t.Fatal(err)
	}
	sbom = mutate.Subject(sbom, *subjDesc).(v1.Image)
	sbomDigest := digestOf(t, sbom)
	if err := remote.Write(repo.Digest(sbomDigest.String()), sbom, opts...); err != nil {
		t.Fatalf("remote.Write of a referrer: %v", err)
	}

	// An artifact with an artifactType field, an empty config and annotations,
	// pushed as raw bytes so that the OCI-Subject answer can be checked.
	sig := []byte("signature bytes")
	for _, l := range []v1.Layer{static.NewLayer([]byte("{}"), emptyJSONType), static.NewLayer(sig, "application/octet-stream")} {
		if err := remote.WriteLayer(repo, l, opts...); err != nil {
			t.Fatalf("remote.WriteLayer: %v", err)
		}
	}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIManifestSchema1,
		"artifactType":  signatureType,
		"config":        map[string]any{"mediaType": emptyJSONType, "digest": sha256Digest([]byte("{}")), "size": 2},
		"layers":        []any{map[string]any{"mediaType": "application/octet-stream", "digest": sha256Digest(sig), "size": len(sig)}},
		"subject":       subjDesc,
		"annotations":   map[string]string{"org.example.signer": "e2e"},
	})
	if err != nil {
		t.Fatal(err)
	}
	sigDigest := sha256Digest(manifest)
	resp, body := do(t, http.MethodPut, s.url("/v2/lib/alpha/manifests/"+sigDigest), strings.NewReader(string(manifest)),
		http.Header{"Content-Type": {string(types.OCIManifestSchema1)}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT referrer manifest: %s %s", resp.Status, body)
	}
	if got := resp.Header.Get("OCI-Subject"); got != subjDigest.String() {
		t.Errorf("PUT referrer manifest: OCI-Subject = %q, want %s", got, subjDigest)
	}

	all, err := remote.Referrers(repo.Digest(subjDigest.String()), opts...)
	if err != nil {
		t.Fatalf("remote.Referrers: %v", err)
	}
	im, err := all.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]v1.Descriptor{}
	for _, d := range im.Manifests {
		got[d.Digest.String()] = d
	}
	if len(got) != 2 {
		t.Fatalf("referrers of %s: %d descriptors %+v, want 2", subjDigest, len(im.Manifests), im.Manifests)
	}
	if d := got[sbomDigest.String()]; d.ArtifactType != sbomType || d.MediaType != types.OCIManifestSchema1 {
		t.Errorf("referrer %s = %+v, want artifactType %s (its config media type)", sbomDigest, d, sbomType)
	}
	if d := got[sigDigest]; d.ArtifactType != signatureType || d.Annotations["org.example.signer"] != "e2e" || d.Size != int64(len(manifest)) {
		t.Errorf("referrer %s = %+v, want artifactType %s, its annotations and size %d", sigDigest, d, signatureType, len(manifest))
	}

	// The server filters by artifactType and says so.
	resp, body = do(t, http.MethodGet, s.url("/v2/lib/alpha/referrers/"+subjDigest.String()+"?artifactType="+signatureType), nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET referrers?artifactType: %s %s", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != string(types.OCIImageIndex) {
		t.Errorf("GET referrers: Content-Type = %q, want %s", ct, types.OCIImageIndex)
	}
	if f := resp.Header.Get("OCI-Filters-Applied"); f != "artifactType" {
		t.Errorf("GET referrers?artifactType: OCI-Filters-Applied = %q, want artifactType", f)
	}
	var filtered v1.IndexManifest
	if err := json.Unmarshal(body, &filtered); err != nil {
		t.Fatalf("GET referrers: %v\n%s", err, body)
	}
	if len(filtered.Manifests) != 1 || filtered.Manifests[0].Digest.String() != sigDigest {
		t.Errorf("GET referrers?artifactType=%s = %s, want only %s", signatureType, body, sigDigest)
	}
	viaLib, err := remote.Referrers(repo.Digest(subjDigest.String()), remoteOptions(ctx, remote.WithFilter("artifactType", sbomType))...)
	if err != nil {
		t.Fatalf("remote.Referrers with filter: %v", err)
	}
	if im, err := viaLib.IndexManifest(); err != nil || len(im.Manifests) != 1 || im.Manifests[0].Digest != sbomDigest {
		t.Errorf("remote.Referrers artifactType=%s: %+v, %v; want only %s", sbomType, im, err, sbomDigest)
	}

	// A digest that nothing refers to has an empty list, not a 404.
	unknown := sha256Digest([]byte("nothing refers to this"))
	resp, body = do(t, http.MethodGet, s.url("/v2/lib/alpha/referrers/"+unknown), nil, nil)
	var none v1.IndexManifest
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &none) != nil || len(none.Manifests) != 0 {
		t.Errorf("GET referrers of an unknown digest: %s %s, want 200 with an empty index", resp.Status, body)
	}
}

// partialDescriptor returns the descriptor of img as a subject field needs it.
func partialDescriptor(img v1.Image) (*v1.Descriptor, error) {
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	size, err := img.Size()
	if err != nil {
		return nil, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	return &v1.Descriptor{MediaType: mt, Digest: d, Size: size}, nil
}
