package metadatatest

import (
	"context"
	"testing"
	"time"

	"berth/internal/berth"
)

// staleUploadCloser is the optional capability of a store to close the
// upload sessions that nobody has written to for a while.
type staleUploadCloser interface {
	CloseStaleUploads(ctx context.Context, before time.Time, limit int) ([]berth.Upload, error)
}

// testCloseStaleUploads needs a store of its own: CloseStaleUploads looks
// at every registry.
func testCloseStaleUploads(t *testing.T, s Store, c staleUploadCloser) {
	ctx := t.Context()
	old := time.Now().Add(-10 * 24 * time.Hour).Truncate(time.Microsecond)
	stale := []berth.Upload{
		{ID: "a", Registry: "r", Repository: "app", Offset: 0, CreatedAt: old},
		{ID: "b", Registry: "r", Repository: "app", Offset: 7, CreatedAt: old.Add(time.Minute)},
		{ID: "a", Registry: "r2", Repository: "x/y", Offset: 9, CreatedAt: old.Add(2 * time.Minute)},
	}
	for _, u := range stale {
		u.Algorithm = "sha256"
		must(t, s.CreateUpload(ctx, u))
	}
	must(t, s.CreateUpload(ctx, berth.Upload{ID: "fresh", Registry: "r", Repository: "app", Algorithm: "sha256"}))
	// Made long ago but written to yesterday: not stale.
	must(t, s.CreateUpload(ctx, berth.Upload{ID: "resumed", Registry: "r", Repository: "app", Algorithm: "sha256",
		CreatedAt: old, UpdatedAt: time.Now().Add(-24 * time.Hour)}))
	before := time.Now().Add(-7 * 24 * time.Hour)

	_, err := c.CloseStaleUploads(ctx, before, 0)
	wantKind(t, err, berth.KindInvalid)

	var got []berth.Upload
	for range 3 {
		batch, err := c.CloseStaleUploads(ctx, before, 2)
		must(t, err)
		got = append(got, batch...)
		if len(batch) < 2 {
			break
		}
	}
	if len(got) != len(stale) {
		t.Fatalf("closed %d sessions, want %d: %+v", len(got), len(stale), got)
	}
	for i, u := range got {
		w := stale[i]
		if u.ID != w.ID || u.Registry != w.Registry || u.Repository != w.Repository || u.Offset != w.Offset ||
			!u.CreatedAt.Equal(w.CreatedAt) || !u.UpdatedAt.Equal(w.CreatedAt) {
			t.Errorf("closed session %d = %+v, want %+v (oldest first, as it was)", i, u, w)
		}
		wantEnded(t, s, u.Registry, u.ID)
		if after, err := s.Upload(ctx, u.Registry, u.ID); err != nil || !after.Closed {
			t.Errorf("Upload(%s, %s) after closing = %+v, %v; want it closed", u.Registry, u.ID, after, err)
		}
		// A closed id is not handed out again.
		wantKind(t, s.CreateUpload(ctx, berth.Upload{ID: u.ID, Registry: u.Registry, Repository: u.Repository, Algorithm: "sha256"}), berth.KindExists)
	}
	if again, err := c.CloseStaleUploads(ctx, before, 2); err != nil || len(again) != 0 {
		t.Fatalf("second sweep closed %+v, %v; want nothing", again, err)
	}
	wantOpen(t, s, "r", "fresh")

	// Swept an hour from now, only the two open sessions are stale: the
	// closed ones, whose rows were written just now, are not taken again.
	later, err := c.CloseStaleUploads(ctx, time.Now().Add(time.Hour), 10)
	must(t, err)
	if len(later) != 2 || later[0].ID != "resumed" || later[1].ID != "fresh" {
		t.Fatalf("sweep an hour later closed %+v; want resumed, then fresh", later)
	}
}
