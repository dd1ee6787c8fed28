package metadatatest

import (
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// Attributes with one switch off.
var (
	noWrite  = berth.Attributes{DeleteEnabled: true, WriteEnabled: false, ReadEnabled: true, ListEnabled: true}
	noDelete = berth.Attributes{DeleteEnabled: false, WriteEnabled: true, ReadEnabled: true, ListEnabled: true}
	noRead   = berth.Attributes{DeleteEnabled: true, WriteEnabled: true, ReadEnabled: false, ListEnabled: true}
	noList   = berth.Attributes{DeleteEnabled: true, WriteEnabled: true, ReadEnabled: true, ListEnabled: false}
)

// wantManifest fails the test unless manifest d is stored in repo.
func wantManifest(t *testing.T, s Store, registry, repo string, d digest.Digest) {
	t.Helper()
	if _, err := s.ManifestInfo(t.Context(), registry, repo, d); err != nil {
		t.Fatalf("manifest %s of %q: %v", d, repo, err)
	}
}

// wantNoManifest fails the test if manifest d is stored in repo.
func wantNoManifest(t *testing.T, s Store, registry, repo string, d digest.Digest) {
	t.Helper()
	_, err := s.ManifestInfo(t.Context(), registry, repo, d)
	wantKind(t, err, berth.KindNotFound)
}

// wantTagInfo fails the test unless tag of repo points to d with attributes a.
func wantTagInfo(t *testing.T, s Store, registry, repo, tag string, d digest.Digest, a berth.Attributes) {
	t.Helper()
	info, err := s.TagInfo(t.Context(), registry, repo, tag)
	if err != nil {
		t.Fatalf("TagInfo(%q): %v", tag, err)
	}
	if info.Digest != d || info.Attributes != a {
		t.Fatalf("tag %q = %s %+v, want %s %+v", tag, info.Digest, info.Attributes, d, a)
	}
}

func testLockedRepositoryWrite(t *testing.T, s Store) {
	ctx := t.Context()
	m := putImage(t, s, "r", "a/b", "m", "v1")
	cfg := linkBlob(t, s, "r", "a/b", "config n")
	putImage(t, s, "r", "other", "o", "v1")
	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", noWrite))

	n := newManifest("n", blobRef(cfg))
	wantDenied(t, s.PutManifest(ctx, "r", "a/b", n, "v2"), `repository "a/b"`, "writeEnabled")
	wantNoManifest(t, s, "r", "a/b", n.Digest)
	_, err := s.TagInfo(ctx, "r", "a/b", "v2")
	wantKind(t, err, berth.KindNotFound)
	// Not even the same manifest again.
	wantDenied(t, s.PutManifest(ctx, "r", "a/b", m, "v1"), `repository "a/b"`, "writeEnabled")

	layer := digest.FromString("new layer")
	wantDenied(t, s.LinkBlob(ctx, "r", "a/b", layer, 9), `repository "a/b"`, "writeEnabled")
	_, err = s.Blob(ctx, "r", "a/b", layer)
	wantKind(t, err, berth.KindNotFound)
	_, err = s.RegistryBlob(ctx, "r", layer)
	wantKind(t, err, berth.KindNotFound)

	// Reads and other repositories go on.
	wantTag(t, s, "r", "a/b", "v1", m.Digest)
	putImage(t, s, "r", "other", "o2", "v2")
	must(t, s.LinkBlob(ctx, "r", "other", layer, 9))

	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", berth.AllEnabled))
	must(t, s.PutManifest(ctx, "r", "a/b", n, "v2"))
	must(t, s.LinkBlob(ctx, "r", "a/b", layer, 9))
}

func testLockedTagWrite(t *testing.T, s Store) {
	ctx := t.Context()
	m1 := putImage(t, s, "r", "a/b", "one", "v1")
	m2 := putImage(t, s, "r", "a/b", "two", "")
	m3 := newManifest("three", m2.References...)
	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v1", noWrite))

	wantDenied(t, s.PutManifest(ctx, "r", "a/b", m2, "v1"), `tag "v1" of repository "a/b" is locked: writeEnabled is false`)
	wantTagInfo(t, s, "r", "a/b", "v1", m1.Digest, noWrite)
	// The manifest that came with the refused tag is not stored either.
	wantDenied(t, s.PutManifest(ctx, "r", "a/b", m3, "v1"), `tag "v1"`, "writeEnabled")
	wantNoManifest(t, s, "r", "a/b", m3.Digest)

	// The same digest again is fine, and keeps the lock.
	must(t, s.PutManifest(ctx, "r", "a/b", m1, "v1"))
	wantTagInfo(t, s, "r", "a/b", "v1", m1.Digest, noWrite)
	// Other tags are not locked; a new tag has every attribute on.
	must(t, s.PutManifest(ctx, "r", "a/b", m2, "v2"))
	must(t, s.PutManifest(ctx, "r", "a/b", m3, "v3"))
	wantTagInfo(t, s, "r", "a/b", "v3", m3.Digest, berth.AllEnabled)
	must(t, s.PutManifest(ctx, "r", "a/b", m3, "v2"))
	wantTagInfo(t, s, "r", "a/b", "v2", m3.Digest, berth.AllEnabled)
	// The same tag name in another repository is another tag.
	putImage(t, s, "r", "a/c", "one", "v1")
	putImage(t, s, "r", "a/c", "two", "v1")

	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v1", berth.AllEnabled))
	must(t, s.PutManifest(ctx, "r", "a/b", m2, "v1"))
	wantTag(t, s, "r", "a/b", "v1", m2.Digest)
}

func testLockedManifestKeepsTags(t *testing.T, s Store) {
	ctx := t.Context()
	m1 := putImage(t, s, "r", "a/b", "one", "v1")
	m2 := putImage(t, s, "r", "a/b", "two", "")
	must(t, s.SetManifestAttributes(ctx, "r", "a/b", m1.Digest, noWrite))

	err := s.PutManifest(ctx, "r", "a/b", m2, "v1")
	wantDenied(t, err, "manifest "+m1.Digest.String(), `repository "a/b"`, "writeEnabled", `"v1"`)
	wantTag(t, s, "r", "a/b", "v1", m1.Digest)

	// Storing it again, and giving it new tags, is fine.
	must(t, s.PutManifest(ctx, "r", "a/b", m1, "v1"))
	must(t, s.PutManifest(ctx, "r", "a/b", m1, "stable"))
	wantTag(t, s, "r", "a/b", "stable", m1.Digest)
	wantDenied(t, s.PutManifest(ctx, "r", "a/b", m2, "stable"), "manifest "+m1.Digest.String(), "writeEnabled")
	// Other tags move freely.
	must(t, s.PutManifest(ctx, "r", "a/b", m2, "v2"))
	must(t, s.PutManifest(ctx, "r", "a/b", m1, "v2"))
	wantTag(t, s, "r", "a/b", "v2", m1.Digest)

	must(t, s.SetManifestAttributes(ctx, "r", "a/b", m1.Digest, berth.AllEnabled))
	must(t, s.PutManifest(ctx, "r", "a/b", m2, "v1"))
	wantTag(t, s, "r", "a/b", "v1", m2.Digest)
}

func testLockedDeleteTag(t *testing.T, s Store) {
	ctx := t.Context()
	m := putImage(t, s, "r", "a/b", "m", "v1")
	must(t, s.PutManifest(ctx, "r", "a/b", m, "v2"))
	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v1", noDelete))
	wantDenied(t, s.DeleteTag(ctx, "r", "a/b", "v1"), `tag "v1" of repository "a/b" is locked: deleteEnabled is false`)
	wantTag(t, s, "r", "a/b", "v1", m.Digest)
	must(t, s.DeleteTag(ctx, "r", "a/b", "v2"))

	must(t, s.PutManifest(ctx, "r", "a/b", m, "v3"))
	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", noDelete))
	wantDenied(t, s.DeleteTag(ctx, "r", "a/b", "v3"), `repository "a/b" is locked: deleteEnabled is false`)
	wantTag(t, s, "r", "a/b", "v3", m.Digest)

	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", berth.AllEnabled))
	must(t, s.DeleteTag(ctx, "r", "a/b", "v3"))
	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v1", berth.AllEnabled))
	must(t, s.DeleteTag(ctx, "r", "a/b", "v1"))
	wantKind(t, s.DeleteTag(ctx, "r", "a/b", "v1"), berth.KindNotFound)
}

func testLockedDeleteManifest(t *testing.T, s Store) {
	ctx := t.Context()
	m := putImage(t, s, "r", "a/b", "m", "v1")
	for _, tag := range []string{"v2", "v3"} {
		must(t, s.PutManifest(ctx, "r", "a/b", m, tag))
	}
	wantAll := func() {
		t.Helper()
		wantManifest(t, s, "r", "a/b", m.Digest)
		for _, tag := range []string{"v1", "v2", "v3"} {
			wantTag(t, s, "r", "a/b", tag, m.Digest)
		}
	}

	must(t, s.SetManifestAttributes(ctx, "r", "a/b", m.Digest, noDelete))
	wantDenied(t, s.DeleteManifest(ctx, "r", "a/b", m.Digest),
		"manifest "+m.Digest.String()+` of repository "a/b" is locked: deleteEnabled is false`)
	wantAll()
	must(t, s.SetManifestAttributes(ctx, "r", "a/b", m.Digest, berth.AllEnabled))

	// One locked tag holds the manifest and every other tag.
	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v2", noDelete))
	wantDenied(t, s.DeleteManifest(ctx, "r", "a/b", m.Digest), `tag "v2" of repository "a/b" is locked: deleteEnabled is false`)
	wantAll()
	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v2", berth.AllEnabled))

	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", noDelete))
	wantDenied(t, s.DeleteManifest(ctx, "r", "a/b", m.Digest), `repository "a/b" is locked: deleteEnabled is false`)
	wantAll()
	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", berth.AllEnabled))

	// Other locks do not hold a delete back.
	must(t, s.SetManifestAttributes(ctx, "r", "a/b", m.Digest, berth.Attributes{DeleteEnabled: true}))
	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v1", noWrite))
	must(t, s.DeleteManifest(ctx, "r", "a/b", m.Digest))
	wantNoManifest(t, s, "r", "a/b", m.Digest)
	_, err := s.TagInfo(ctx, "r", "a/b", "v1")
	wantKind(t, err, berth.KindNotFound)
}

func testLockedUnlinkBlob(t *testing.T, s Store) {
	ctx := t.Context()
	d := linkBlob(t, s, "r", "a/b", "layer")
	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", noDelete))
	wantDenied(t, s.UnlinkBlob(ctx, "r", "a/b", d), `repository "a/b" is locked: deleteEnabled is false`)
	if _, err := s.Blob(ctx, "r", "a/b", d); err != nil {
		t.Fatalf("blob after a refused unlink: %v", err)
	}
	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", noWrite))
	must(t, s.UnlinkBlob(ctx, "r", "a/b", d))
	_, err := s.Blob(ctx, "r", "a/b", d)
	wantKind(t, err, berth.KindNotFound)
}

func testDeleteRepository(t *testing.T, s Store) {
	ctx := t.Context()
	wantKind(t, s.DeleteRepository(ctx, "r", "a/b"), berth.KindNotFound)
	m1 := putImage(t, s, "r", "a/b", "one", "v1")
	m2 := putImage(t, s, "r", "a/b", "two", "v2")
	index := newManifest("index", manifestRef(m1.Digest), manifestRef(m2.Digest))
	must(t, s.PutManifest(ctx, "r", "a/b", index, "latest"))
	keep := putImage(t, s, "r", "other", "one", "v1") // shares the blobs of m1
	putImage(t, s, "r2", "a/b", "one", "v1")

	wantAll := func() {
		t.Helper()
		info, err := s.Repository(ctx, "r", "a/b")
		must(t, err)
		if info.ManifestCount != 3 || info.TagCount != 3 {
			t.Fatalf("repository after a refused delete = %+v", info)
		}
		wantTag(t, s, "r", "a/b", "latest", index.Digest)
		for _, ref := range m1.References {
			if _, err := s.Blob(ctx, "r", "a/b", ref.Digest); err != nil {
				t.Fatalf("blob after a refused delete: %v", err)
			}
		}
	}
	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", noDelete))
	wantDenied(t, s.DeleteRepository(ctx, "r", "a/b"), `repository "a/b" is locked: deleteEnabled is false`)
	wantAll()
	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", berth.AllEnabled))

	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v2", noDelete))
	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v1", noDelete))
	wantDenied(t, s.DeleteRepository(ctx, "r", "a/b"), `tag "v1" of repository "a/b" is locked: deleteEnabled is false`)
	wantAll()
	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v1", berth.AllEnabled))
	must(t, s.SetTagAttributes(ctx, "r", "a/b", "v2", berth.AllEnabled))

	must(t, s.SetManifestAttributes(ctx, "r", "a/b", m2.Digest, noDelete))
	wantDenied(t, s.DeleteRepository(ctx, "r", "a/b"), "manifest "+m2.Digest.String(), "deleteEnabled")
	wantAll()
	must(t, s.SetManifestAttributes(ctx, "r", "a/b", m2.Digest, noWrite))

	must(t, s.DeleteRepository(ctx, "r", "a/b"))
	ok, err := s.RepositoryExists(ctx, "r", "a/b")
	must(t, err)
	if ok {
		t.Fatal("repository exists after DeleteRepository")
	}
	_, err = s.Repository(ctx, "r", "a/b")
	wantKind(t, err, berth.KindNotFound)
	for _, d := range []digest.Digest{m1.Digest, m2.Digest, index.Digest} {
		_, err := s.Manifest(ctx, "r", "a/b", d)
		wantKind(t, err, berth.KindNotFound)
	}
	_, err = s.Tag(ctx, "r", "a/b", "latest")
	wantKind(t, err, berth.KindNotFound)
	_, err = s.Blob(ctx, "r", "a/b", m1.References[0].Digest)
	wantKind(t, err, berth.KindNotFound)
	wantKind(t, s.DeleteRepository(ctx, "r", "a/b"), berth.KindNotFound)

	// The registry still holds the blobs another repository links, and the
	// other repositories are whole.
	if _, err := s.RegistryBlob(ctx, "r", m1.References[0].Digest); err != nil {
		t.Fatalf("blob of another repository: %v", err)
	}
	wantTag(t, s, "r", "other", "v1", keep.Digest)
	wantTag(t, s, "r2", "a/b", "v1", m1.Digest)
	repos, err := s.Repositories(ctx, "r", "", 0)
	must(t, err)
	wantStrings(t, "repositories", repos, []string{"other"})

	// A push starts it afresh, with every attribute on and nothing of the
	// old content.
	putImage(t, s, "r", "a/b", "one", "v1")
	info, err := s.Repository(ctx, "r", "a/b")
	must(t, err)
	if info.ManifestCount != 1 || info.TagCount != 1 || info.Attributes != berth.AllEnabled {
		t.Fatalf("repository pushed again = %+v", info)
	}
	_, err = s.Blob(ctx, "r", "a/b", m2.References[0].Digest)
	wantKind(t, err, berth.KindNotFound)
}
