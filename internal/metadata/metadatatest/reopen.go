package metadatatest

import (
	"testing"

	"berth/internal/berth"
)

// Reopen checks that what a store acknowledged is there after it is closed
// and opened again: registries and their settings, secrets, tokens, signing
// keys, blobs, manifests, tags, attributes and uploads. open must return a
// store over the same database at every call; Reopen closes what it returns.
func Reopen(t *testing.T, open func(t *testing.T) Store) {
	ctx := t.Context()
	s := open(t)
	must(t, s.CreateRegistry(ctx, berth.Registry{Name: "r", Location: "eastus", Aliases: []string{"localhost"}}))
	m := putImage(t, s, "r", "app", "durable", "v1")
	must(t, s.CreateUpload(ctx, berth.Upload{ID: "u", Registry: "r", Repository: "app", Algorithm: "sha256"}))
	must(t, s.AdvanceUpload(ctx, berth.Upload{ID: "u", Registry: "r", Repository: "app", Offset: 10, Algorithm: "sha256", HashState: []byte{1, 2, 3}}, 0))
	settings := berth.Settings{SKU: berth.SKUPremium, DataEndpointEnabled: true}
	must(t, s.UpdateSettings(ctx, "r", settings))
	must(t, s.CreateToken(ctx, berth.Token{Registry: "r", Name: "ci", ScopeMap: "_repositories_pull", Enabled: true}))
	must(t, s.PutSecret(ctx, "r", berth.TokenOwner("ci"), berth.Secret{Name: "password1", Hash: []byte("hash")}))
	must(t, s.PutSigningKey(ctx, berth.SigningKey{ID: "k", Private: []byte("key")}))
	must(t, s.SetTagAttributes(ctx, "r", "app", "v1", noWrite))
	must(t, s.Close())

	s = open(t)
	defer s.Close()
	r, err := s.RegistryByAlias(ctx, "localhost")
	must(t, err)
	if r.Name != "r" || r.Location != "eastus" || r.Settings != settings {
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
	if tok, err := s.Token(ctx, "r", "ci"); err != nil || !tok.Enabled {
		t.Fatalf("token after reopening = %+v, %v", tok, err)
	}
	if secrets, err := s.Secrets(ctx, "r", berth.TokenOwner("ci")); err != nil || len(secrets) != 1 || string(secrets[0].Hash) != "hash" {
		t.Fatalf("secrets after reopening = %+v, %v", secrets, err)
	}
	if keys, err := s.SigningKeys(ctx); err != nil || len(keys) != 1 || string(keys[0].Private) != "key" {
		t.Fatalf("signing keys after reopening = %+v, %v", keys, err)
	}
	wantTagInfo(t, s, "r", "app", "v1", m.Digest, noWrite)
	// Writes still work.
	after := putImage(t, s, "r", "app", "after", "v2")
	wantTag(t, s, "r", "app", "v2", after.Digest)
}
