package uploadgc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth/internal/berth"
	"berth/internal/blobstore/fs"
	"berth/internal/metadata/sqlite"
	"berth/internal/uploadgc"
)

// TestSweep runs the sweeper over the SQLite store and the filesystem blob
// store: more abandoned sessions than one batch, in two registries, are
// closed and lose their bytes; a session written to recently keeps both.
func TestSweep(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	start := func(reg, id string, lastWrite time.Time) {
		t.Helper()
		n, err := blobs.WriteUpload(ctx, reg, id, 0, strings.NewReader("partial"))
		if err != nil {
			t.Fatal(err)
		}
		u := berth.Upload{ID: id, Registry: reg, Repository: "app", Algorithm: "sha256", Offset: n,
			CreatedAt: lastWrite, UpdatedAt: lastWrite}
		if err := meta.CreateUpload(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	var abandoned []berth.Upload
	for i := range 150 {
		reg := []string{"one", "two"}[i%2]
		id := "old" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		start(reg, id, now.Add(-8*24*time.Hour+time.Duration(i)*time.Second))
		abandoned = append(abandoned, berth.Upload{Registry: reg, ID: id})
	}
	start("one", "recent", now.Add(-6*24*time.Hour))
	// Bytes without a record: old ones are a crash's leftovers, a fresh
	// one may be a first chunk about to be recorded.
	leftover := func(reg, id string, written time.Time) {
		t.Helper()
		if _, err := blobs.WriteUpload(ctx, reg, id, 0, strings.NewReader("orphan")); err != nil {
			t.Fatal(err)
		}
		setWritten(t, filepath.Join(dir, "blobs", reg, "uploads", id), written)
	}
	leftover("one", "orphan", now.Add(-9*24*time.Hour))
	leftover("two", "newborn", now.Add(-time.Minute))
	// Older than the maximum age, but an id without record may still be in
	// use for seven days: kept.
	leftover("two", "young", now.Add(-7*24*time.Hour-12*time.Hour))
	// Old bytes of an open session with a recent record stay.
	setWritten(t, filepath.Join(dir, "blobs", "one", "uploads", "recent"), now.Add(-30*24*time.Hour))

	var logs bytes.Buffer
	s := uploadgc.New(meta, blobs, 7*24*time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
	n, err := s.Sweep(ctx, now)
	if err != nil || n != len(abandoned) {
		t.Fatalf("Sweep = %d, %v; want %d", n, err, len(abandoned))
	}
	for _, u := range abandoned {
		if got, err := meta.Upload(ctx, u.Registry, u.ID); err != nil || !got.Closed {
			t.Fatalf("session %s/%s after the sweep: %+v, %v; want it closed", u.Registry, u.ID, got, err)
		}
		if _, err := blobs.ReadUpload(ctx, u.Registry, u.ID, 0); berth.KindOf(err) != berth.KindNotFound {
			t.Fatalf("bytes of %s/%s after the sweep: %v; want KindNotFound", u.Registry, u.ID, err)
		}
	}
	got, err := meta.Upload(ctx, "one", "recent")
	if err != nil || got.Closed {
		t.Fatalf("recent session after the sweep: %+v, %v; want it open", got, err)
	}
	r, err := blobs.ReadUpload(ctx, "one", "recent", got.Offset)
	if err != nil {
		t.Fatalf("bytes of the recent session: %v", err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "partial" {
		t.Fatalf("recent session holds %q", b)
	}
	if _, err := blobs.ReadUpload(ctx, "one", "orphan", 0); berth.KindOf(err) != berth.KindNotFound {
		t.Fatalf("old bytes without a session after the sweep: %v; want KindNotFound", err)
	}
	for _, id := range []string{"newborn", "young"} {
		if _, err := blobs.ReadUpload(ctx, "two", id, 6); err != nil {
			t.Fatalf("bytes %s without a session after the sweep: %v; want them kept", id, err)
		}
	}
	if n, err := s.Sweep(ctx, now); err != nil || n != 0 || logs.Len() != 0 {
		t.Fatalf("second Sweep = %d, %v, logged %q; want 0, nothing", n, err, logs.String())
	}
}

// setWritten sets the modification time of file to at.
func setWritten(t *testing.T, file string, at time.Time) {
	t.Helper()
	if err := os.Chtimes(file, at, at); err != nil {
		t.Fatal(err)
	}
}

// TestSweepKeepsGoing checks that bytes which cannot be removed are logged
// and do not stop the sweep, and that a failure of the metadata store is
// returned.
func TestSweepKeepsGoing(t *testing.T) {
	ctx := t.Context()
	meta, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	for _, id := range []string{"a", "b"} {
		u := berth.Upload{ID: id, Registry: "r", Repository: "app", Algorithm: "sha256", CreatedAt: old}
		if err := meta.CreateUpload(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	s := uploadgc.New(meta, failingBytes{}, time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
	if n, err := s.Sweep(ctx, time.Now()); err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2, nil", n, err)
	}
	if c := strings.Count(logs.String(), "bytes of an abandoned upload not removed"); c != 2 {
		t.Fatalf("logged %q; want two warnings", logs.String())
	}
	meta.Close()
	if _, err := s.Sweep(ctx, time.Now()); err == nil {
		t.Fatal("Sweep on a closed metadata store returned no error")
	}
}

// failingBytes fails every removal: a failure that the filesystem store
// cannot be made to produce for a test running as root.
type failingBytes struct{}

func (failingBytes) AbortUpload(context.Context, string, string) error {
	return errors.New("disk gone")
}
