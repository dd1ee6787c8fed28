package metadatatest

import (
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

func testLockedReads(t *testing.T, s Store) {
	ctx := t.Context()
	m := putImage(t, s, "r", "a/b", "m", "v1")
	must(t, s.PutManifest(ctx, "r", "a/b", m, "v2"))
	n := putImage(t, s, "r", "a/b", "n", "n1")
	layer := m.References[1].Digest

	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v1", noRead))
	_, err := s.Tag(ctx, "r", "a/b", "v1")
	wantDenied(t, err, `tag "v1" of repository "a/b" is locked: readEnabled is false`)
	wantTag(t, s, "r", "a/b", "v2", m.Digest)
	if _, err := s.Manifest(ctx, "r", "a/b", m.Digest); err != nil {
		t.Fatalf("manifest of an unreadable tag, by digest: %v", err)
	}
	_, err = s.Tag(ctx, "r", "a/b", "missing")
	wantKind(t, err, berth.KindNotFound)

	must(t, s.SetManifestAttributes(ctx, "r", "a/b", m.Digest, noRead))
	_, err = s.Manifest(ctx, "r", "a/b", m.Digest)
	wantDenied(t, err, "manifest "+m.Digest.String()+` of repository "a/b" is locked: readEnabled is false`)
	if _, err := s.Manifest(ctx, "r", "a/b", n.Digest); err != nil {
		t.Fatalf("another manifest: %v", err)
	}
	// Its blobs stay readable: a manifest lock is not a repository lock.
	if _, err := s.Blob(ctx, "r", "a/b", layer); err != nil {
		t.Fatalf("blob of an unreadable manifest: %v", err)
	}
	must(t, s.SetManifestAttributes(ctx, "r", "a/b", m.Digest, berth.AllEnabled))
	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v1", berth.AllEnabled))

	// A repository that is not read-enabled serves nothing.
	putImage(t, s, "r", "other", "m", "v1")
	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", noRead))
	const repoLocked = `repository "a/b" is locked: readEnabled is false`
	_, err = s.Tag(ctx, "r", "a/b", "v1")
	wantDenied(t, err, repoLocked)
	_, err = s.Manifest(ctx, "r", "a/b", m.Digest)
	wantDenied(t, err, repoLocked)
	_, err = s.Blob(ctx, "r", "a/b", layer)
	wantDenied(t, err, repoLocked)
	_, err = s.Tag(ctx, "r", "a/b", "missing")
	wantKind(t, err, berth.KindNotFound)
	_, err = s.Blob(ctx, "r", "a/b", digest.FromString("missing"))
	wantKind(t, err, berth.KindNotFound)
	wantTag(t, s, "r", "other", "v1", m.Digest)
	if _, err := s.Blob(ctx, "r", "other", layer); err != nil {
		t.Fatalf("the same blob in another repository: %v", err)
	}

	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", berth.AllEnabled))
	wantTag(t, s, "r", "a/b", "v1", m.Digest)
	if _, err := s.Manifest(ctx, "r", "a/b", m.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Blob(ctx, "r", "a/b", layer); err != nil {
		t.Fatal(err)
	}
}

func testListFiltering(t *testing.T, s Store) {
	ctx := t.Context()
	m := putImage(t, s, "r", "app", "m", "")
	for _, tag := range []string{"a", "b", "c", "d"} {
		must(t, s.PutManifest(ctx, "r", "app", m, tag))
	}
	must(t, s.SetTagAttributes(ctx, "r", "app", "b", noList))
	must(t, s.SetTagAttributes(ctx, "r", "app", "c", noList))
	tags, err := s.Tags(ctx, "r", "app", "", 0)
	must(t, err)
	wantStrings(t, "tags", tags, []string{"a", "d"})
	tags, err = s.Tags(ctx, "r", "app", "a", 1)
	must(t, err)
	wantStrings(t, "tags after a", tags, []string{"d"})
	wantTag(t, s, "r", "app", "b", m.Digest) // still there by name

	// A repository whose every tag is hidden lists none, and exists.
	must(t, s.SetTagAttributes(ctx, "r", "app", "a", noList))
	must(t, s.SetTagAttributes(ctx, "r", "app", "d", noList))
	tags, err = s.Tags(ctx, "r", "app", "", 0)
	must(t, err)
	wantStrings(t, "tags", tags, nil)
	infos, err := s.TagInfos(ctx, "r", "app")
	must(t, err)
	if len(infos) != 4 {
		t.Fatalf("TagInfos lists %d tags, want all 4", len(infos))
	}

	for _, repo := range []string{"x/1", "x/2", "x/3"} {
		linkBlob(t, s, "r", repo, "layer")
	}
	must(t, s.SetRepositoryAttributes(ctx, "r", "x/2", noList))
	repos, err := s.Repositories(ctx, "r", "", 0)
	must(t, err)
	wantStrings(t, "repositories", repos, []string{"app", "x/1", "x/3"})
	repos, err = s.Repositories(ctx, "r", "x/1", 1)
	must(t, err)
	wantStrings(t, "repositories after x/1", repos, []string{"x/3"})
	ok, err := s.RepositoryExists(ctx, "r", "x/2")
	must(t, err)
	if !ok {
		t.Fatal("a repository left out of the list does not exist")
	}
	if _, err := s.Repository(ctx, "r", "x/2"); err != nil {
		t.Fatal(err)
	}

	cfg := linkBlob(t, s, "r", "app", "artifact config")
	var referrers []*berth.Manifest
	for _, seed := range []string{"sig", "sbom", "attestation"} {
		r := newManifest(seed, blobRef(cfg))
		r.Subject = m.Digest
		r.ArtifactType = "application/vnd.example." + seed
		must(t, s.PutManifest(ctx, "r", "app", r, ""))
		referrers = append(referrers, r)
	}
	must(t, s.SetManifestAttributes(ctx, "r", "app", referrers[1].Digest, noList))
	got, err := s.Referrers(ctx, "r", "app", m.Digest, "")
	must(t, err)
	var listed []string
	for _, d := range got {
		listed = append(listed, string(d.Digest))
	}
	wantStrings(t, "referrers", listed, sorted([]string{string(referrers[0].Digest), string(referrers[2].Digest)}))
	got, err = s.Referrers(ctx, "r", "app", m.Digest, "application/vnd.example.sbom")
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("referrers of a hidden artifact type = %+v", got)
	}
	if _, err := s.Manifest(ctx, "r", "app", referrers[1].Digest); err != nil {
		t.Fatalf("a manifest left out of the referrers: %v", err)
	}
}
