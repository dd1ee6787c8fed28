package metadatatest

import (
	"testing"

	"berth/internal/berth"
)

// Reopen checks that what a store acknowledged is there after it is closed
// and opened again: registries, blobs, manifests, tags and uploads. open must
// return a store over the same database at every call; Reopen closes what it
// returns.
func Reopen(t *testing.T, open func(t *testing.T) berth.MetadataStore) {
	ctx := t.Context()
	s := open(t)
	must(t, s.CreateRegistry(ctx, berth.Registry{Name: "r", Location: "eastus", Aliases: []string{"localhost"}}))
	m := putImage(t, s, "r", "app", "durable", "v1")
	must(t, s.CreateUpload(ctx, berth.Upload{ID: "u", Registry: "r", Repository: "app", Algorithm: "sha256"}))
	must(t, s.AdvanceUpload(ctx, berth.Upload{ID: "u", Registry: "r", Repository: "app", Offset: 10, Algorithm: "sha256", HashState: []byte{1, 2, 3}}, 0))
	must(t, s.Close())

	s = open(t)
	defer s.Close()
	r, err := s.RegistryByAlias(ctx, "localhost")
	must(t, err)
	if r.Name != "r" || r.Location != "eastus" {
		t.Fatalf("registry after reopening = %+v", r)
	}
	wantTag(t, s, "r", "app", "v1", m.Digest)
	got, err := s.Manifest(ctx, "r", "app", m.Digest)
	must(t, err)
	if string(got.Payload) != string(m.Payload) || len(got.References) != 2 {
		t.Fatalf("manifest after reopening = %+v", got)
	}
	for _, ref := range m.References {
		if _, err := s.Blob(ctx, "r", "app", ref.Digest); err != nil {
			t.Fatalf("blob after reopening: %v", err)
		}
	}
	u, err := s.Upload(ctx, "r", "u")
	must(t, err)
	if u.Offset != 10 || string(u.HashState) != "\x01\x02\x03" {
		t.Fatalf("upload after reopening = %+v", u)
	}
	// Writes still work.
	after := putImage(t, s, "r", "app", "after", "v2")
	wantTag(t, s, "r", "app", "v2", after.Digest)
}
