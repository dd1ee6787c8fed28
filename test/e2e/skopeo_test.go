package e2e

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// TestSkopeo copies images and a multi-architecture index from an OCI layout
// to berth and back with skopeo, and checks that every digest survives.
func TestSkopeo(t *testing.T) {
	t.Parallel()
	skopeo := tool(t, "skopeo")
	s := startServer(t)
	home := t.TempDir()
	sk := func(args ...string) command {
		return command{bin: skopeo, args: append([]string{"--insecure-policy"}, args...), env: []string{"HOME=" + home}}
	}
	repo := "docker://" + s.addr() + "/skopeo/app"

	t.Run("image", func(t *testing.T) {
		img := ociImage(t, 3, 32<<10)
		want := digestOf(t, img)
		src := writeLayout(t, "v1", img)
		sk("copy", "--preserve-digests", "--dest-tls-verify=false", "oci:"+src+":v1", repo+":v1").run(t)

		raw := sk("inspect", "--raw", "--tls-verify=false", repo+":v1").run(t)
		if got := sha256Digest(raw); got != want.String() {
			t.Errorf("skopeo inspect --raw: manifest hashes to %s, want %s", got, want)
		}
		var info struct {
			Digest string
			Layers []string
		}
		if err := json.Unmarshal(sk("inspect", "--tls-verify=false", repo+":v1").run(t), &info); err != nil {
			t.Fatalf("skopeo inspect: %v", err)
		}
		if info.Digest != want.String() || !slices.Equal(info.Layers, hashStrings(layerDigests(t, img))) {
			t.Errorf("skopeo inspect = %+v, want digest %s and layers %v", info, want, layerDigests(t, img))
		}

		dst := t.TempDir()
		sk("copy", "--preserve-digests", "--src-tls-verify=false", repo+":v1", "oci:"+dst+":back").run(t)
		desc := layoutEntry(t, dst, "back")
		if desc.Digest != want {
			t.Fatalf("copied back: layout holds %s, want %s", desc.Digest, want)
		}
		back, err := layout.Path(dst).Image(desc.Digest)
		if err != nil {
			t.Fatalf("reading copied image: %v", err)
		}
		if err := validate.Image(back); err != nil {
			t.Errorf("validate.Image of the copied image: %v", err)
		}
		if g, w := layerDigests(t, back), layerDigests(t, img); !slices.Equal(g, w) {
			t.Errorf("copied layers %v, want %v", g, w)
		}
		if g, w := configDigest(t, back), configDigest(t, img); g != w {
			t.Errorf("copied config %s, want %s", g, w)
		}

		// A second tag, then list them.
		sk("copy", "--preserve-digests", "--dest-tls-verify=false", "oci:"+src+":v1", repo+":v2").run(t)
		var tags struct {
			Repository string
			Tags       []string
		}
		if err := json.Unmarshal(sk("list-tags", "--tls-verify=false", repo).run(t), &tags); err != nil {
			t.Fatalf("skopeo list-tags: %v", err)
		}
		if !slices.Equal(tags.Tags, []string{"v1", "v2"}) {
			t.Errorf("skopeo list-tags = %+v, want tags [v1 v2]", tags)
		}
	})

	t.Run("multi-arch", func(t *testing.T) {
		idx := ociIndex(t,
			v1.Platform{OS: "linux", Architecture: "amd64"},
			v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
			v1.Platform{OS: "linux", Architecture: "s390x"})
		want := digestOf(t, idx)
		src := writeLayoutIndex(t, "multi", idx)
		sk("copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "oci:"+src+":multi", repo+":multi").run(t)

		raw := sk("inspect", "--raw", "--tls-verify=false", repo+":multi").run(t)
		if got := sha256Digest(raw); got != want.String() {
			t.Errorf("skopeo inspect --raw of the index: hashes to %s, want %s", got, want)
		}
		ctx := testContext(t, time.Minute)
		got, err := remote.Index(parseRef(t, s.addr()+"/skopeo/app:multi"), remoteOptions(ctx)...)
		if err != nil {
			t.Fatalf("remote.Index: %v", err)
		}
		if err := validate.Index(got); err != nil {
			t.Errorf("validate.Index of the pushed index: %v", err)
		}

		dst := t.TempDir()
		sk("copy", "--all", "--preserve-digests", "--src-tls-verify=false", repo+":multi", "oci:"+dst+":multi").run(t)
		desc := layoutEntry(t, dst, "multi")
		if desc.Digest != want {
			t.Fatalf("copied back: layout holds %s, want %s", desc.Digest, want)
		}
		back, err := layout.Path(dst).ImageIndex()
		if err != nil {
			t.Fatal(err)
		}
		backIdx, err := back.ImageIndex(want)
		if err != nil {
			t.Fatalf("reading copied index: %v", err)
		}
		if err := validate.Index(backIdx); err != nil {
			t.Errorf("validate.Index of the copied index: %v", err)
		}
	})
}

// hashStrings returns the string forms of hs.
func hashStrings(hs []v1.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}
