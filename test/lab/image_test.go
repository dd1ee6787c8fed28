package lab

import (
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// writeImage writes a random image with OCI media types (so that no
// client converts it on the way to an OCI layout) into a new OCI layout
// and returns the layout's directory and the image.
func writeImage(t *testing.T) (string, v1.Image) {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for range 2 {
		l, err := random.Layer(96<<10, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "image")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	return dir, img
}

// checkPulled checks that the OCI layout a client pulled into dir holds
// the image of digest want, with every blob present and matching its
// digest.
func checkPulled(t *testing.T, client, dir string, want v1.Hash) {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Errorf("%s pulled no OCI layout into %s: %v", client, dir, err)
		return
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Errorf("%s: %v", client, err)
		return
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Errorf("%s: %v", client, err)
		return
	}
	var got []v1.Hash
	for _, desc := range m.Manifests {
		got = append(got, desc.Digest)
	}
	if len(got) != 1 || got[0] != want {
		t.Errorf("%s pulled manifests %v, want %s", client, got, want)
		return
	}
	img, err := idx.Image(want)
	if err != nil {
		t.Errorf("%s: %v", client, err)
		return
	}
	if err := validate.Image(img); err != nil {
		t.Errorf("%s pulled an image that does not verify: %v", client, err)
	}
}

// pullDir returns a directory for one client's pull that does not exist
// yet, so that nothing of an earlier pull is reused.
func pullDir(t *testing.T, client string) string {
	t.Helper()
	dir, err := os.MkdirTemp(t.TempDir(), client+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}
