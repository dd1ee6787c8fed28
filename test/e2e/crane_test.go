package e2e

import (
	"bytes"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// TestCrane drives berth with the crane CLI: push from a tarball, copy
// between repositories (a cross-repository mount), pull, manifest, ls,
// catalog, digest, blob, tag and delete.
func TestCrane(t *testing.T) {
	t.Parallel()
	crane := tool(t, "crane")
	s := startServer(t)
	host := s.localhost()
	home := t.TempDir()
	c := func(args ...string) command {
		return command{bin: crane, args: append(args, "--insecure"), env: []string{"HOME=" + home, "DOCKER_CONFIG=" + home}}
	}

	img, err := random.Image(64<<10, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := digestOf(t, img)
	tarPath := filepath.Join(t.TempDir(), "image.tar")
	if err := tarball.WriteToFile(tarPath, parseRef(t, "example.com/src:v1"), img); err != nil {
		t.Fatalf("writing tarball: %v", err)
	}

	src := host + "/crane/src"
	dst := host + "/crane/dst"
	out := strings.TrimSpace(string(c("push", tarPath, src+":v1").run(t)))
	if out != src+"@"+want.String() {
		t.Errorf("crane push printed %q, want %s@%s", out, src, want)
	}

	if got := strings.TrimSpace(string(c("digest", src+":v1").run(t))); got != want.String() {
		t.Errorf("crane digest = %s, want %s", got, want)
	}

	manifest := c("manifest", src+":v1").run(t)
	if got := sha256Digest(manifest); got != want.String() {
		t.Errorf("crane manifest: bytes hash to %s, want %s", got, want)
	}

	// Copying inside the registry mounts every blob from the source
	// repository: the verbose log shows the mount and no blob upload.
	_, stderr, err := c("copy", "-v", src+":v1", dst+":v1").exec()
	if err != nil {
		t.Fatalf("crane copy: %v\n%s", err, clip(stderr))
	}
	if !regexp.MustCompile(`POST /v2/crane/dst/blobs/uploads/\?[^ ]*mount=sha256`).Match(stderr) {
		t.Errorf("crane copy inside the registry made no mount request:\n%s", clip(stderr))
	}
	if bytes.Contains(stderr, []byte("PATCH /v2/crane/dst/")) {
		t.Errorf("crane copy uploaded blob data instead of mounting it:\n%s", clip(stderr))
	}
	if got := strings.TrimSpace(string(c("digest", dst+":v1").run(t))); got != want.String() {
		t.Errorf("crane digest of the copy = %s, want %s", got, want)
	}

	// Pull the copy as an OCI layout and as a tarball; both hold the image.
	layoutDir := t.TempDir()
	c("pull", "--format", "oci", dst+":v1", layoutDir).run(t)
	if d := layoutEntry(t, layoutDir, ""); d.Digest != want {
		t.Errorf("crane pull --format oci: layout holds %s, want %s", d.Digest, want)
	}
	pulledTar := filepath.Join(t.TempDir(), "pulled.tar")
	c("pull", dst+":v1", pulledTar).run(t)
	pulled, err := tarball.ImageFromPath(pulledTar, nil)
	if err != nil {
		t.Fatalf("reading pulled tarball: %v", err)
	}
	if err := validate.Image(pulled); err != nil {
		t.Errorf("validate.Image of the pulled tarball: %v", err)
	}
	if g, w := layerDigests(t, pulled), layerDigests(t, img); !slices.Equal(g, w) {
		t.Errorf("pulled tarball layers %v, want %v", g, w)
	}
	if g, w := configDigest(t, pulled), configDigest(t, img); g != w {
		t.Errorf("pulled tarball config %s, want %s", g, w)
	}

	// Every layer comes back byte for byte.
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		d := digestOf(t, l)
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		wantBytes, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := c("blob", dst+"@"+d.String()).run(t)
		if !bytes.Equal(got, wantBytes) {
			t.Errorf("crane blob %s: %d bytes hashing to %s, want %d bytes", d, len(got), sha256Digest(got), len(wantBytes))
		}
	}

	c("tag", src+":v1", "v2").run(t)
	if tags := lines(c("ls", src).run(t)); !slices.Equal(tags, []string{"v1", "v2"}) {
		t.Errorf("crane ls %s = %v, want [v1 v2]", src, tags)
	}
	repos := lines(c("catalog", host).run(t))
	for _, r := range []string{"crane/dst", "crane/src"} {
		if !slices.Contains(repos, r) {
			t.Errorf("crane catalog = %v, lacks %s", repos, r)
		}
	}

	c("delete", dst+"@"+want.String()).run(t)
	if out := c("manifest", dst+"@"+want.String()).fail(t); !strings.Contains(out, "MANIFEST_UNKNOWN") {
		t.Errorf("crane manifest after delete: want MANIFEST_UNKNOWN, got:\n%s", out)
	}
	// The source repository still has its image and its blobs.
	if got := strings.TrimSpace(string(c("digest", src+":v2").run(t))); got != want.String() {
		t.Errorf("crane digest %s:v2 after deleting the copy = %s, want %s", src, got, want)
	}
	c("validate", "--remote", src+":v1").run(t)
}

// configDigest returns the digest of img's config blob.
func configDigest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatalf("config name: %v", err)
	}
	return h
}

// lines splits command output into its non-empty lines.
func lines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
