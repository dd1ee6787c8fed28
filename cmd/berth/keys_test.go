package main

import (
	"context"
	"path/filepath"
	"testing"

	"berth/internal/berth"
	"berth/internal/metadata/sqlite"
)

func TestNamespacedKeysKeepUsersApart(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	bearer, data := namespacedKeys{store, "bearer-"}, namespacedKeys{store, "data-"}
	if err := bearer.PutSigningKey(ctx, berth.SigningKey{ID: "k1", Private: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	if err := data.PutSigningKey(ctx, berth.SigningKey{ID: "k1", Private: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	got, _ := bearer.SigningKeys(ctx)
	if len(got) != 1 || got[0].ID != "k1" || string(got[0].Private) != "a" {
		t.Fatalf("bearer keys = %+v", got)
	}
	if err := bearer.DeleteSigningKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	got, _ = data.SigningKeys(ctx)
	if len(got) != 1 || string(got[0].Private) != "b" {
		t.Fatalf("data keys after deleting the bearer key = %+v", got)
	}
}
