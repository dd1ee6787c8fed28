package metadatatest

import (
	"bytes"
	"testing"
	"time"

	"berth/internal/berth"
)

func testUploads(t *testing.T, s Store) {
	ctx := t.Context()
	created := time.Date(2024, 2, 3, 4, 5, 6, 7, time.UTC)
	u := berth.Upload{ID: "u1", Registry: "r", Repository: "app", Algorithm: "sha256", CreatedAt: created}
	must(t, s.CreateUpload(ctx, u))
	wantKind(t, s.CreateUpload(ctx, u), berth.KindExists)
	// The same id in another registry is another upload.
	must(t, s.CreateUpload(ctx, berth.Upload{ID: "u1", Registry: "r2", Repository: "x", Algorithm: "sha512"}))

	got, err := s.Upload(ctx, "r", "u1")
	must(t, err)
	if got.ID != "u1" || got.Registry != "r" || got.Repository != "app" || got.Offset != 0 ||
		got.Algorithm != "sha256" || len(got.HashState) != 0 ||
		!got.CreatedAt.Equal(created) || !got.UpdatedAt.Equal(created) {
		t.Fatalf("Upload = %+v", got)
	}
	got, err = s.Upload(ctx, "r2", "u1")
	must(t, err)
	if got.Repository != "x" || got.Algorithm != "sha512" || got.CreatedAt.IsZero() {
		t.Fatalf("Upload of r2 = %+v", got)
	}

	_, err = s.Upload(ctx, "r", "missing")
	wantKind(t, err, berth.KindNotFound)
	_, err = s.Upload(ctx, "r3", "u1")
	wantKind(t, err, berth.KindNotFound)

	must(t, s.DeleteUpload(ctx, "r", "u1"))
	_, err = s.Upload(ctx, "r", "u1")
	wantKind(t, err, berth.KindNotFound)
	wantKind(t, s.DeleteUpload(ctx, "r", "u1"), berth.KindNotFound)
	if _, err := s.Upload(ctx, "r2", "u1"); err != nil {
		t.Fatalf("deleting an upload deleted another registry's: %v", err)
	}
}

func testAdvanceUpload(t *testing.T, s Store) {
	ctx := t.Context()
	u := berth.Upload{ID: "u", Registry: "r", Repository: "app", Algorithm: "sha256"}
	must(t, s.CreateUpload(ctx, u))

	state := []byte("123\x00\xffstate")
	u.Offset, u.HashState = 100, state
	must(t, s.AdvanceUpload(ctx, u, 0))
	got, err := s.Upload(ctx, "r", "u")
	must(t, err)
	if got.Offset != 100 || !bytes.Equal(got.HashState, state) || got.Repository != "app" {
		t.Fatalf("Upload after advance = %+v", got)
	}
	if got.UpdatedAt.Before(got.CreatedAt) {
		t.Fatalf("UpdatedAt %v before CreatedAt %v", got.UpdatedAt, got.CreatedAt)
	}

	// A writer that still thinks the upload is at 0 lost the race.
	stale := u
	stale.Offset, stale.HashState = 50, []byte("other")
	wantKind(t, s.AdvanceUpload(ctx, stale, 0), berth.KindConflict)
	got, err = s.Upload(ctx, "r", "u")
	must(t, err)
	if got.Offset != 100 || !bytes.Equal(got.HashState, state) {
		t.Fatalf("a conflicting advance changed the upload to %+v", got)
	}

	u.Offset, u.HashState = 250, []byte("later")
	must(t, s.AdvanceUpload(ctx, u, 100))

	must(t, s.DeleteUpload(ctx, "r", "u"))
	u.Offset = 300
	wantKind(t, s.AdvanceUpload(ctx, u, 250), berth.KindNotFound)
}
