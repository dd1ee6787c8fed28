package oci_test

import (
	"context"
	"strings"
	"testing"

	"berth/internal/berth"
)

// TestLockedContent checks that attributes set through the store (as the
// management API sets them) are enforced on the registry API, with a
// DENIED error that names the attribute.
func TestLockedContent(t *testing.T) {
	e := newEnv(t)
	meta := e.meta
	ctx := context.Background()
	m1, d1 := e.image("a", "1")
	m2, _ := e.image("a", "2")
	e.expect(e.do("PUT", "/v2/a/manifests/v1", m1, "Content-Type", ociManifest), 201, "")

	locked := berth.AllEnabled
	locked.WriteEnabled, locked.DeleteEnabled = false, false
	if err := meta.SetTagAttributes(ctx, "default", "a", "v1", locked); err != nil {
		t.Fatal(err)
	}
	denied := func(r response, attr string) {
		t.Helper()
		e.expect(r, 403, "DENIED")
		if !strings.Contains(string(r.body), attr) {
			t.Errorf("denial does not name %s: %s", attr, r.body)
		}
	}
	denied(e.do("PUT", "/v2/a/manifests/v1", m2, "Content-Type", ociManifest), "writeEnabled")
	denied(e.do("DELETE", "/v2/a/manifests/v1", nil), "deleteEnabled")
	denied(e.do("DELETE", "/v2/a/manifests/"+d1.String(), nil), "deleteEnabled")
	r := e.do("GET", "/v2/a/manifests/v1", nil)
	e.expect(r, 200, "")
	if string(r.body) != string(m1) {
		t.Fatal("locked tag moved")
	}
	// Other tags of the repository are not locked.
	e.expect(e.do("PUT", "/v2/a/manifests/v2", m2, "Content-Type", ociManifest), 201, "")

	// A repository that is not read-enabled cannot be pulled.
	repo := berth.AllEnabled
	repo.ReadEnabled = false
	if err := meta.SetRepositoryAttributes(ctx, "default", "a", repo); err != nil {
		t.Fatal(err)
	}
	denied(e.do("GET", "/v2/a/manifests/v2", nil), "readEnabled")
	denied(e.do("GET", "/v2/a/blobs/"+sha([]byte("layer-2")), nil), "readEnabled")
}
