package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

const (
	bigLayerSize = 20 << 20 // large enough for twenty 1 MiB chunks
	chunkSize    = 1 << 20
)

// TestRegctl drives berth with regctl. regctl is the client that uploads in
// chunks (PATCH with Content-Range) when a blob is larger than its blobMax
// setting, so the 20 MiB layer here goes up in 1 MiB chunks through a proxy
// that counts them.
func TestRegctl(t *testing.T) {
	t.Parallel()
	regctl := tool(t, "regctl")
	s := startServer(t)
	counter := &patchCounter{}
	proxy := httptest.NewServer(counter.wrap(httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: s.addr()})))
	t.Cleanup(proxy.Close)
	proxyHost := strings.TrimPrefix(proxy.URL, "http://")
	host := s.localhost()

	home := t.TempDir()
	env := []string{"HOME=" + home, "REGCTL_CONFIG=" + filepath.Join(home, "regctl.json"), "DOCKER_CONFIG=" + home}
	rc := func(args ...string) command { return command{bin: regctl, args: args, env: env} }
	rc("registry", "set", host, "--tls", "disabled").run(t)
	rc("registry", "set", proxyHost, "--tls", "disabled",
		"--blob-max", strconv.Itoa(chunkSize), "--blob-chunk", strconv.Itoa(chunkSize)).run(t)

	// An image with one big layer and one small one, in an OCI layout.
	img := ociImage(t, 1, 4096)
	big, err := random.Layer(bigLayerSize, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.AppendLayers(img, big); err != nil {
		t.Fatal(err)
	}
	src := writeLayout(t, "v1", img)
	want := digestOf(t, img)
	bigDigest := digestOf(t, big)

	// Push through the counting proxy: chunked.
	rc("image", "copy", "ocidir://"+src+":v1", proxyHost+"/regctl/app:v1").run(t)
	if n := counter.chunks(); n < 2 {
		t.Errorf("regctl sent %d PATCH requests with a Content-Range, want a chunked upload of the %d MiB layer", n, bigLayerSize>>20)
	} else {
		t.Logf("regctl uploaded in %d chunked PATCH requests", n)
	}
	ctx := testContext(t, 2*time.Minute)
	pushed, err := remote.Image(parseRef(t, s.addr()+"/regctl/app:v1"), remoteOptions(ctx)...)
	if err != nil {
		t.Fatalf("remote.Image of the chunked push: %v", err)
	}
	if got := digestOf(t, pushed); got != want {
		t.Errorf("chunked push stored %s, want %s", got, want)
	}
	if err := validate.Image(pushed); err != nil {
		t.Errorf("validate.Image of the chunked push: %v", err)
	}

	ref := host + "/regctl/app:v1"
	raw := rc("manifest", "get", ref, "--format", "raw-body").run(t)
	if got := sha256Digest(raw); got != want.String() {
		t.Errorf("regctl manifest get: body hashes to %s, want %s", got, want)
	}
	if got := strings.TrimSpace(string(rc("image", "digest", ref).run(t))); got != want.String() {
		t.Errorf("regctl image digest = %s, want %s", got, want)
	}

	// The big blob comes back whole.
	layerFile := filepath.Join(src, "blobs", "sha256", bigDigest.Hex)
	wantBlob, err := os.ReadFile(layerFile)
	if err != nil {
		t.Fatalf("reading layer from the layout: %v", err)
	}
	if got := rc("blob", "get", host+"/regctl/app", bigDigest.String()).run(t); !bytes.Equal(got, wantBlob) {
		t.Errorf("regctl blob get %s: %d bytes hashing to %s, want %d bytes", bigDigest, len(got), sha256Digest(got), len(wantBlob))
	}

	// Copy inside the registry, then to an OCI layout, and compare.
	rc("image", "copy", ref, host+"/regctl/copy:v1").run(t)
	rc("image", "copy", ref, host+"/regctl/app:v2").run(t)
	if tags := lines(rc("tag", "ls", host+"/regctl/app").run(t)); !slices.Equal(tags, []string{"v1", "v2"}) {
		t.Errorf("regctl tag ls = %v, want [v1 v2]", tags)
	}
	out := t.TempDir()
	rc("image", "copy", host+"/regctl/copy:v1", "ocidir://"+out+":v1").run(t)
	desc := layoutEntry(t, out, "v1")
	if desc.Digest != want {
		t.Fatalf("regctl copy to a layout holds %s, want %s", desc.Digest, want)
	}
	back, err := layout.Path(out).Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(back); err != nil {
		t.Errorf("validate.Image of the image copied back: %v", err)
	}

	t.Run("artifacts", func(t *testing.T) {
		sbom := filepath.Join(t.TempDir(), "sbom.json")
		if err := os.WriteFile(sbom, []byte(`{"spdxVersion":"SPDX-2.3"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		rc("artifact", "put", "--subject", ref, "--artifact-type", sbomType,
			"--file", sbom, "--file-media-type", "application/spdx+json",
			"--annotation", "org.example.kind=sbom").run(t)
		rc("artifact", "put", "--subject", ref, "--artifact-type", signatureType,
			"--file", sbom, "--file-media-type", "application/octet-stream").run(t)

		all := referrerList(t, rc("artifact", "list", ref, "--format", "{{json .Descriptors}}").run(t))
		byType := map[string]int{}
		for _, d := range all {
			byType[d.ArtifactType]++
		}
		if len(all) != 2 || byType[sbomType] != 1 || byType[signatureType] != 1 {
			t.Errorf("regctl artifact list = %+v, want one %s and one %s", all, sbomType, signatureType)
		}
		filtered := referrerList(t, rc("artifact", "list", ref, "--filter-artifact-type", sbomType, "--format", "{{json .Descriptors}}").run(t))
		if len(filtered) != 1 || filtered[0].ArtifactType != sbomType || filtered[0].Annotations["org.example.kind"] != "sbom" {
			t.Errorf("regctl artifact list --filter-artifact-type = %+v, want the one %s with its annotation", filtered, sbomType)
		}
		got := rc("artifact", "get", "--subject", ref, "--filter-artifact-type", sbomType).run(t)
		if string(got) != `{"spdxVersion":"SPDX-2.3"}` {
			t.Errorf("regctl artifact get = %q, want the SBOM", got)
		}
		// The server answered the referrers API, so regctl kept no
		// fallback tags (sha256-<hex>) in the repository.
		for _, tag := range lines(rc("tag", "ls", host+"/regctl/app").run(t)) {
			if strings.HasPrefix(tag, "sha256-") {
				t.Errorf("tag %s: regctl fell back to the referrers tag scheme (no OCI-Subject header on the manifest PUT)", tag)
			}
		}
	})
}

// referrerList parses the descriptor list that regctl artifact list prints.
func referrerList(t *testing.T, out []byte) []v1.Descriptor {
	t.Helper()
	var ds []v1.Descriptor
	if err := json.Unmarshal(bytes.TrimSpace(out), &ds); err != nil {
		t.Fatalf("parsing regctl artifact list output: %v\n%s", err, out)
	}
	return ds
}

// patchCounter counts the PATCH requests that carry a Content-Range, that
// is, the chunks of chunked uploads, on their way to the server.
type patchCounter struct {
	mu     sync.Mutex
	ranged int
}

func (c *patchCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch && r.Header.Get("Content-Range") != "" {
			c.mu.Lock()
			c.ranged++
			c.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (c *patchCounter) chunks() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ranged
}
