package metadatatest

import (
	"bytes"
	"testing"
	"time"

	"berth/internal/berth"
)

func testSigningKeys(t *testing.T, s Store) {
	ctx := t.Context()
	keys, err := s.SigningKeys(ctx)
	must(t, err)
	if keys == nil || len(keys) != 0 {
		t.Fatalf("SigningKeys of a new store = %#v", keys)
	}

	t0 := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	old := berth.SigningKey{ID: "old", Private: []byte("0\x82\x00\xffold"), CreatedAt: t0, NotAfter: t0.Add(72 * time.Hour)}
	current := berth.SigningKey{ID: "current", Private: []byte("current"), CreatedAt: t0.Add(24 * time.Hour)}
	next := berth.SigningKey{ID: "next", Private: []byte("next"), CreatedAt: t0.Add(48 * time.Hour)}
	for _, k := range []berth.SigningKey{current, old, next} {
		must(t, s.PutSigningKey(ctx, k))
	}
	wantKeys := func(want ...berth.SigningKey) {
		t.Helper()
		got, err := s.SigningKeys(ctx)
		must(t, err)
		if len(got) != len(want) {
			t.Fatalf("SigningKeys = %+v, want %+v", got, want)
		}
		for i, w := range want {
			g := got[i]
			if g.ID != w.ID || !bytes.Equal(g.Private, w.Private) || !g.CreatedAt.Equal(w.CreatedAt) || !g.NotAfter.Equal(w.NotAfter) {
				t.Fatalf("key %d = %+v, want %+v", i, g, w)
			}
		}
	}
	wantKeys(next, current, old)

	// Replacing a key without a creation time keeps its place.
	current.NotAfter = t0.Add(96 * time.Hour)
	replace := current
	replace.CreatedAt = time.Time{}
	must(t, s.PutSigningKey(ctx, replace))
	wantKeys(next, current, old)
	// With one, it moves.
	old.CreatedAt = t0.Add(100 * time.Hour)
	old.NotAfter = time.Time{}
	must(t, s.PutSigningKey(ctx, old))
	wantKeys(old, next, current)

	// A new key without a creation time is the newest.
	fresh := berth.SigningKey{ID: "fresh", Private: []byte("fresh")}
	must(t, s.PutSigningKey(ctx, fresh))
	got, err := s.SigningKeys(ctx)
	must(t, err)
	if len(got) != 4 || got[0].ID != "fresh" || got[0].CreatedAt.IsZero() || !got[0].NotAfter.IsZero() {
		t.Fatalf("SigningKeys after adding a key of now = %+v", got)
	}
	must(t, s.DeleteSigningKey(ctx, "fresh"))

	must(t, s.DeleteSigningKey(ctx, "next"))
	wantKeys(old, current)
	must(t, s.DeleteSigningKey(ctx, "next")) // missing: not an error
	wantKind(t, s.PutSigningKey(ctx, berth.SigningKey{ID: "x"}), berth.KindInvalid)
	wantKind(t, s.PutSigningKey(ctx, berth.SigningKey{Private: []byte("x")}), berth.KindInvalid)
	wantKeys(old, current)
}
