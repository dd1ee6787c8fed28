package metadatatest

import (
	"cmp"
	"maps"
	"slices"
	"sort"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// names holds names whose byte order differs from the dictionary order of
// most locales: capitals before small letters, punctuation that a locale
// would ignore.
var names = []string{"v1", "V2", "a", "A", "b", "B-1", "b.1", "b_1", "_z", "1.0", "a-b", "ab", "z"}

// sorted returns a sorted copy of s.
func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func testTags(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.Tags(ctx, "r", "app", "", 0)
	wantKind(t, err, berth.KindNotFound)

	linkBlob(t, s, "r", "app", "layer")
	tags, err := s.Tags(ctx, "r", "app", "", 0)
	must(t, err)
	if len(tags) != 0 {
		t.Fatalf("Tags of a repository without tags = %q", tags)
	}

	m := putImage(t, s, "r", "app", "m", "")
	for _, tag := range names {
		must(t, s.PutManifest(ctx, "r", "app", m, tag))
	}
	putImage(t, s, "r", "other", "o", "other")
	putImage(t, s, "r2", "app", "o", "r2tag")
	want := sorted(names)

	tags, err = s.Tags(ctx, "r", "app", "", 0)
	must(t, err)
	wantStrings(t, "all tags", tags, want)
	tags, err = s.Tags(ctx, "r", "app", "", -1)
	must(t, err)
	wantStrings(t, "tags with n < 0", tags, want)

	// Page through them, three at a time.
	var paged []string
	last := ""
	for range len(want) {
		page, err := s.Tags(ctx, "r", "app", last, 3)
		must(t, err)
		if len(page) > 3 {
			t.Fatalf("page after %q has %d tags, want at most 3", last, len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		last = page[len(page)-1]
	}
	wantStrings(t, "paged tags", paged, want)

	// last need not be a tag.
	tags, err = s.Tags(ctx, "r", "app", "b", 2)
	must(t, err)
	wantStrings(t, "tags after b", tags, []string{"b.1", "b_1"})
	tags, err = s.Tags(ctx, "r", "app", "zz", 5)
	must(t, err)
	if len(tags) != 0 {
		t.Fatalf("tags after the last one = %q", tags)
	}
}

func testRepositories(t *testing.T, s Store) {
	ctx := t.Context()
	repos, err := s.Repositories(ctx, "r", "", 0)
	must(t, err)
	if len(repos) != 0 {
		t.Fatalf("Repositories of an empty registry = %q", repos)
	}
	var want []string
	for i, n := range names {
		repo := "team/" + n
		if i%2 == 0 {
			linkBlob(t, s, "r", repo, "layer")
		} else {
			putImage(t, s, "r", repo, n, "")
		}
		want = append(want, repo)
	}
	linkBlob(t, s, "r", "team", "layer")
	linkBlob(t, s, "r2", "other", "layer")
	want = sorted(append(want, "team"))

	repos, err = s.Repositories(ctx, "r", "", 0)
	must(t, err)
	wantStrings(t, "repositories", repos, want)

	var paged []string
	last := ""
	for range len(want) {
		page, err := s.Repositories(ctx, "r", last, 4)
		must(t, err)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		last = page[len(page)-1]
	}
	wantStrings(t, "paged repositories", paged, want)

	repos, err = s.Repositories(ctx, "r2", "", 10)
	must(t, err)
	wantStrings(t, "repositories of r2", repos, []string{"other"})
}

func testReferrers(t *testing.T, s Store) {
	ctx := t.Context()
	subject := putImage(t, s, "r", "app", "subject", "v1")
	cfg := linkBlob(t, s, "r", "app", "artifact config")

	var all []*berth.Manifest
	for i, at := range []string{"application/vnd.example.sbom", "application/vnd.example.sig", "application/vnd.example.sbom"} {
		m := newManifest("referrer "+string(rune('a'+i)), blobRef(cfg))
		m.ArtifactType = at
		m.Subject = subject.Digest
		if i == 0 {
			m.Annotations = map[string]string{"org.example.created": "2024-01-01"}
		}
		must(t, s.PutManifest(ctx, "r", "app", m, ""))
		all = append(all, m)
	}
	// A referrer of the same subject in another repository is not listed.
	linkBlob(t, s, "r", "other", "artifact config")
	elsewhere := newManifest("elsewhere", blobRef(cfg))
	elsewhere.Subject = subject.Digest
	must(t, s.PutManifest(ctx, "r", "other", elsewhere, ""))

	wantReferrers := func(what, artifactType string, want []*berth.Manifest) {
		t.Helper()
		got, err := s.Referrers(ctx, "r", "app", subject.Digest, artifactType)
		must(t, err)
		want = slices.Clone(want)
		slices.SortFunc(want, func(a, b *berth.Manifest) int { return cmp.Compare(a.Digest, b.Digest) })
		if len(got) != len(want) {
			t.Fatalf("%s: %d referrers %v, want %d", what, len(got), got, len(want))
		}
		for i, m := range want {
			d := m.Descriptor()
			g := got[i]
			if g.Digest != d.Digest || g.MediaType != d.MediaType || g.Size != d.Size ||
				g.ArtifactType != d.ArtifactType || !maps.Equal(g.Annotations, d.Annotations) {
				t.Fatalf("%s: referrer %d = %+v, want %+v", what, i, g, d)
			}
		}
	}
	wantReferrers("all", "", all)
	wantReferrers("sboms", "application/vnd.example.sbom", []*berth.Manifest{all[0], all[2]})
	wantReferrers("unknown type", "application/vnd.example.none", nil)

	must(t, s.DeleteManifest(ctx, "r", "app", all[0].Digest))
	wantReferrers("after delete", "", all[1:])
	wantReferrers("sboms after delete", "application/vnd.example.sbom", []*berth.Manifest{all[2]})

	got, err := s.Referrers(ctx, "r", "app", digest.FromString("no subject"), "")
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("referrers of an unknown subject = %v", got)
	}
	got, err = s.Referrers(ctx, "r", "missing", subject.Digest, "")
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("referrers in a missing repository = %v", got)
	}
}
