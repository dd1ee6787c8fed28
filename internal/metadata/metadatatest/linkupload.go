package metadatatest

import (
	"context"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// uploadLinker is the optional capability of a store to link a blob to a
// repository and end the upload session that made it in one transaction.
// A session the store has no record of is not an error.
type uploadLinker interface {
	LinkUploadedBlob(ctx context.Context, registry, repo string, d digest.Digest, size int64, uploadID string) error
}

// runLinkUploadedBlob runs the LinkUploadedBlob cases as parallel subtests
// of t, all on store s, each in a registry of its own.
func runLinkUploadedBlob(t *testing.T, s Store, l uploadLinker) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store, l uploadLinker, registry string)
	}{
		{"LinksAndEndsSession", testLinkUploadedBlob},
		{"UnknownSession", testLinkUploadedBlobUnknownSession},
		{"LockedRepository", testLinkUploadedBlobLocked},
		{"Invalid", testLinkUploadedBlobInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, s, l, "lu"+tc.name)
		})
	}
}

// createUpload creates upload session id of repo.
func createUpload(t *testing.T, s Store, registry, repo, id string) {
	t.Helper()
	must(t, s.CreateUpload(t.Context(), berth.Upload{ID: id, Registry: registry, Repository: repo, Algorithm: "sha256"}))
}

// wantBlob fails the test unless repo may read blob d of size bytes.
func wantBlob(t *testing.T, s Store, registry, repo string, d digest.Digest, size int64) {
	t.Helper()
	got, err := s.Blob(t.Context(), registry, repo, d)
	if err != nil {
		t.Fatalf("Blob(%q, %s): %v", repo, d, err)
	}
	if got != size {
		t.Fatalf("Blob(%q, %s) size = %d, want %d", repo, d, got, size)
	}
}

// wantNoBlob fails the test if the registry records blob d.
func wantNoBlob(t *testing.T, s Store, registry, repo string, d digest.Digest) {
	t.Helper()
	_, err := s.Blob(t.Context(), registry, repo, d)
	wantKind(t, err, berth.KindNotFound)
	_, err = s.RegistryBlob(t.Context(), registry, d)
	wantKind(t, err, berth.KindNotFound)
}

// wantOpen fails the test unless upload session id, at offset 0, still
// takes data. It advances the session to offset 1.
func wantOpen(t *testing.T, s Store, registry, id string) {
	t.Helper()
	u := berth.Upload{ID: id, Registry: registry, Offset: 1, Algorithm: "sha256"}
	if err := s.AdvanceUpload(t.Context(), u, 0); err != nil {
		t.Fatalf("AdvanceUpload of session %q: %v", id, err)
	}
}

// wantEnded fails the test unless upload session id takes no more data.
func wantEnded(t *testing.T, s Store, registry, id string) {
	t.Helper()
	u := berth.Upload{ID: id, Registry: registry, Offset: 1, Algorithm: "sha256"}
	wantKind(t, s.AdvanceUpload(t.Context(), u, 0), berth.KindNotFound)
}

func testLinkUploadedBlob(t *testing.T, s Store, l uploadLinker, reg string) {
	ctx := t.Context()
	createUpload(t, s, reg, "app", "u1")
	// The same id in another registry names another session.
	createUpload(t, s, reg+"x", "app", "u1")
	d := digest.FromString("layer")

	must(t, l.LinkUploadedBlob(ctx, reg, "app", d, 5, "u1"))
	wantBlob(t, s, reg, "app", d, 5)
	if size, err := s.RegistryBlob(ctx, reg, d); err != nil || size != 5 {
		t.Fatalf("RegistryBlob = %d, %v; want 5", size, err)
	}
	ok, err := s.RepositoryExists(ctx, reg, "app")
	must(t, err)
	if !ok {
		t.Fatal("LinkUploadedBlob did not create the repository")
	}
	wantEnded(t, s, reg, "u1")
	wantOpen(t, s, reg+"x", "u1")
	wantNoBlob(t, s, reg+"x", "app", d)
}

func testLinkUploadedBlobUnknownSession(t *testing.T, s Store, l uploadLinker, reg string) {
	ctx := t.Context()
	createUpload(t, s, reg, "app", "other")
	d := digest.FromString("layer")
	must(t, l.LinkUploadedBlob(ctx, reg, "app", d, 5, "never-created"))
	wantBlob(t, s, reg, "app", d, 5)
	// Again, now that the blob is linked: still no error, nothing changes.
	must(t, l.LinkUploadedBlob(ctx, reg, "app", d, 5, "never-created"))
	wantBlob(t, s, reg, "app", d, 5)
	wantEnded(t, s, reg, "never-created")
	wantOpen(t, s, reg, "other")
}

func testLinkUploadedBlobLocked(t *testing.T, s Store, l uploadLinker, reg string) {
	ctx := t.Context()
	linkBlob(t, s, reg, "a/b", "earlier layer")
	must(t, s.SetRepositoryAttributes(ctx, reg, "a/b", noWrite))
	createUpload(t, s, reg, "a/b", "u1")
	d := digest.FromString("new layer")

	// Refused as by LinkBlob, and the session stays open: nothing of the
	// transaction holds.
	wantDenied(t, l.LinkUploadedBlob(ctx, reg, "a/b", d, 9, "u1"), `repository "a/b"`, "writeEnabled")
	wantNoBlob(t, s, reg, "a/b", d)
	wantOpen(t, s, reg, "u1")

	must(t, s.SetRepositoryAttributes(ctx, reg, "a/b", berth.AllEnabled))
	must(t, l.LinkUploadedBlob(ctx, reg, "a/b", d, 9, "u1"))
	wantBlob(t, s, reg, "a/b", d, 9)
	wantEnded(t, s, reg, "u1")
}

func testLinkUploadedBlobInvalid(t *testing.T, s Store, l uploadLinker, reg string) {
	ctx := t.Context()
	createUpload(t, s, reg, "app", "u1")
	d := digest.FromString("layer")
	tests := []struct {
		name string
		d    digest.Digest
		size int64
	}{
		{"negative size", d, -1},
		{"empty digest", "", 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantKind(t, l.LinkUploadedBlob(ctx, reg, "app", tc.d, tc.size, "u1"), berth.KindInvalid)
		})
	}
	wantNoBlob(t, s, reg, "app", d)
	wantOpen(t, s, reg, "u1")
	ok, err := s.RepositoryExists(ctx, reg, "app")
	must(t, err)
	if ok {
		t.Fatal("a refused LinkUploadedBlob created the repository")
	}
}
