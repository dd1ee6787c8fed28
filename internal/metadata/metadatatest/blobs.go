package metadatatest

import (
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

func testLinkBlob(t *testing.T, s Store) {
	ctx := t.Context()
	ok, err := s.RepositoryExists(ctx, "r", "app")
	must(t, err)
	if ok {
		t.Fatal("repository exists before anything was linked to it")
	}
	d := linkBlob(t, s, "r", "app", "hello")
	ok, err = s.RepositoryExists(ctx, "r", "app")
	must(t, err)
	if !ok {
		t.Fatal("LinkBlob did not create the repository")
	}
	must(t, s.LinkBlob(ctx, "r", "app", d, 5)) // twice is fine

	size, err := s.Blob(ctx, "r", "app", d)
	must(t, err)
	if size != 5 {
		t.Fatalf("Blob size = %d, want 5", size)
	}
	size, err = s.RegistryBlob(ctx, "r", d)
	must(t, err)
	if size != 5 {
		t.Fatalf("RegistryBlob size = %d, want 5", size)
	}
	_, err = s.Blob(ctx, "r", "app", digest.FromString("missing"))
	wantKind(t, err, berth.KindNotFound)
	_, err = s.RegistryBlob(ctx, "r", digest.FromString("missing"))
	wantKind(t, err, berth.KindNotFound)

	repos, err := s.Repositories(ctx, "r", "", 0)
	must(t, err)
	wantStrings(t, "repositories", repos, []string{"app"})
}

func testBlobIsolation(t *testing.T, s Store) {
	ctx := t.Context()
	d := linkBlob(t, s, "r1", "app", "shared")

	// Another repository of the same registry may not read it ...
	_, err := s.Blob(ctx, "r1", "other", d)
	wantKind(t, err, berth.KindNotFound)
	// ... but the registry holds it (a cross-repository mount may link it).
	if _, err := s.RegistryBlob(ctx, "r1", d); err != nil {
		t.Fatalf("RegistryBlob in the owning registry: %v", err)
	}
	// Another registry knows nothing of it, in any repository.
	_, err = s.Blob(ctx, "r2", "app", d)
	wantKind(t, err, berth.KindNotFound)
	_, err = s.RegistryBlob(ctx, "r2", d)
	wantKind(t, err, berth.KindNotFound)
	ok, err := s.RepositoryExists(ctx, "r2", "app")
	must(t, err)
	if ok {
		t.Fatal("repository app exists in registry r2")
	}

	must(t, s.LinkBlob(ctx, "r1", "other", d, 6))
	if _, err := s.Blob(ctx, "r1", "other", d); err != nil {
		t.Fatalf("Blob after mounting into another repository: %v", err)
	}
}

func testUnlinkBlob(t *testing.T, s Store) {
	ctx := t.Context()
	d := linkBlob(t, s, "r", "a", "content")
	must(t, s.LinkBlob(ctx, "r", "b", d, 7))

	must(t, s.UnlinkBlob(ctx, "r", "a", d))
	_, err := s.Blob(ctx, "r", "a", d)
	wantKind(t, err, berth.KindNotFound)
	wantKind(t, s.UnlinkBlob(ctx, "r", "a", d), berth.KindNotFound)
	if _, err := s.Blob(ctx, "r", "b", d); err != nil {
		t.Fatalf("unlinking from one repository unlinked it from another: %v", err)
	}
	if _, err := s.RegistryBlob(ctx, "r", d); err != nil {
		t.Fatalf("RegistryBlob while another repository holds it: %v", err)
	}

	must(t, s.UnlinkBlob(ctx, "r", "b", d))
	_, err = s.RegistryBlob(ctx, "r", d)
	wantKind(t, err, berth.KindNotFound)
	wantKind(t, s.UnlinkBlob(ctx, "r", "never", d), berth.KindNotFound)

	// Linking again after the last unlink makes it readable again.
	must(t, s.LinkBlob(ctx, "r", "a", d, 7))
	if _, err := s.Blob(ctx, "r", "a", d); err != nil {
		t.Fatalf("Blob after linking again: %v", err)
	}
}
