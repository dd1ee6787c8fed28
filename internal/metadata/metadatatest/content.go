package metadatatest

import (
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

func testRepositoryInfo(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.Repository(ctx, "r", "a/b")
	wantKind(t, err, berth.KindNotFound)
	wantKind(t, s.SetRepositoryAttributes(ctx, "r", "a/b", noWrite), berth.KindNotFound)

	linkBlob(t, s, "r", "a/b", "layer")
	info, err := s.Repository(ctx, "r", "a/b")
	must(t, err)
	if info.Registry != "r" || info.Name != "a/b" || info.Attributes != berth.AllEnabled ||
		info.ManifestCount != 0 || info.TagCount != 0 || time.Since(info.CreatedAt) > time.Hour ||
		!info.UpdatedAt.Equal(info.CreatedAt) {
		t.Fatalf("Repository of a repository with only a blob = %+v", info)
	}
	created := info.CreatedAt

	m1 := putImage(t, s, "r", "a/b", "one", "v1")
	must(t, s.PutManifest(ctx, "r", "a/b", m1, "v1.0"))
	putImage(t, s, "r", "a/b", "two", "")
	putImage(t, s, "r", "a/c", "three", "v1") // another repository
	info, err = s.Repository(ctx, "r", "a/b")
	must(t, err)
	if info.ManifestCount != 2 || info.TagCount != 2 || !info.CreatedAt.Equal(created) || info.UpdatedAt.Before(created) {
		t.Fatalf("Repository = %+v", info)
	}
	tag, err := s.TagInfo(ctx, "r", "a/b", "v1.0")
	must(t, err)
	if info.UpdatedAt.Before(tag.UpdatedAt) {
		t.Fatalf("repository updated at %v, before its tag v1.0 (%v)", info.UpdatedAt, tag.UpdatedAt)
	}

	// A manifest pushed with a later creation time sets the update time.
	later := time.Now().Add(24 * time.Hour).UTC()
	m3 := newManifest("later", m1.References...)
	m3.CreatedAt = later
	must(t, s.PutManifest(ctx, "r", "a/b", m3, ""))
	info, err = s.Repository(ctx, "r", "a/b")
	must(t, err)
	if info.ManifestCount != 3 || info.TagCount != 2 || !info.UpdatedAt.Equal(later) {
		t.Fatalf("Repository after a later manifest = %+v, want UpdatedAt %v", info, later)
	}

	locks := berth.Attributes{DeleteEnabled: false, WriteEnabled: true, ReadEnabled: false, ListEnabled: true}
	must(t, s.SetRepositoryAttributes(ctx, "r", "a/b", locks))
	info, err = s.Repository(ctx, "r", "a/b")
	must(t, err)
	if info.Attributes != locks {
		t.Fatalf("attributes = %+v, want %+v", info.Attributes, locks)
	}
	other, err := s.Repository(ctx, "r", "a/c")
	must(t, err)
	if other.Attributes != berth.AllEnabled || other.ManifestCount != 1 {
		t.Fatalf("the other repository = %+v", other)
	}
	_, err = s.Repository(ctx, "r2", "a/b")
	wantKind(t, err, berth.KindNotFound)
}

func testTagInfos(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.TagInfos(ctx, "r", "app")
	wantKind(t, err, berth.KindNotFound)
	linkBlob(t, s, "r", "app", "layer")
	tags, err := s.TagInfos(ctx, "r", "app")
	must(t, err)
	if tags == nil || len(tags) != 0 {
		t.Fatalf("TagInfos of a repository without tags = %#v", tags)
	}

	m1 := putImage(t, s, "r", "app", "one", "")
	m2 := putImage(t, s, "r", "app", "two", "")
	for _, tag := range names {
		must(t, s.PutManifest(ctx, "r", "app", m1, tag))
	}
	putImage(t, s, "r", "other", "o", "elsewhere")
	tags, err = s.TagInfos(ctx, "r", "app")
	must(t, err)
	var got []string
	for _, tag := range tags {
		got = append(got, tag.Name)
		if tag.Digest != m1.Digest || tag.Attributes != berth.AllEnabled || tag.CreatedAt.IsZero() ||
			!tag.UpdatedAt.Equal(tag.CreatedAt) {
			t.Fatalf("TagInfo %+v", tag)
		}
	}
	wantStrings(t, "tag names", got, sorted(names))

	before, err := s.TagInfo(ctx, "r", "app", "v1")
	must(t, err)
	time.Sleep(2 * time.Millisecond)
	must(t, s.PutManifest(ctx, "r", "app", m2, "v1"))
	after, err := s.TagInfo(ctx, "r", "app", "v1")
	must(t, err)
	if after.Digest != m2.Digest || !after.CreatedAt.Equal(before.CreatedAt) || !after.UpdatedAt.After(before.UpdatedAt) {
		t.Fatalf("tag before moving %+v, after %+v", before, after)
	}

	must(t, s.SetTagAttributes(ctx, "r", "app", "v1", noList))
	locked, err := s.TagInfo(ctx, "r", "app", "v1")
	must(t, err)
	if locked.Attributes != noList || !locked.UpdatedAt.Equal(after.UpdatedAt) {
		t.Fatalf("tag after SetTagAttributes = %+v", locked)
	}
	tags, err = s.TagInfos(ctx, "r", "app")
	must(t, err)
	if len(tags) != len(names) {
		t.Fatalf("TagInfos lists %d tags, want %d", len(tags), len(names))
	}
	if a, err := s.TagInfo(ctx, "r", "app", "V2"); err != nil || a.Attributes != berth.AllEnabled {
		t.Fatalf("another tag = %+v, %v", a, err)
	}

	_, err = s.TagInfo(ctx, "r", "app", "missing")
	wantKind(t, err, berth.KindNotFound)
	_, err = s.TagInfo(ctx, "r", "other", "v1")
	wantKind(t, err, berth.KindNotFound)
	wantKind(t, s.SetTagAttributes(ctx, "r", "app", "missing", noList), berth.KindNotFound)
	wantKind(t, s.SetTagAttributes(ctx, "r2", "app", "v1", noList), berth.KindNotFound)
}

func testManifestInfos(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.ManifestInfos(ctx, "r", "app")
	wantKind(t, err, berth.KindNotFound)
	cfg := linkBlob(t, s, "r", "app", "config")
	infos, err := s.ManifestInfos(ctx, "r", "app")
	must(t, err)
	if infos == nil || len(infos) != 0 {
		t.Fatalf("ManifestInfos of a repository without manifests = %#v", infos)
	}

	t0 := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	var ms []*berth.Manifest
	for i, seed := range []string{"oldest", "middle", "newest"} {
		m := newManifest(seed, blobRef(cfg))
		m.CreatedAt = t0.Add(time.Duration(i) * time.Hour)
		ms = append(ms, m)
	}
	ms[1].ArtifactType = "application/vnd.example.sbom"
	must(t, s.PutManifest(ctx, "r", "app", ms[2], "latest"))
	must(t, s.PutManifest(ctx, "r", "app", ms[0], ""))
	for _, tag := range []string{"b", "V2", "a", "_z"} {
		must(t, s.PutManifest(ctx, "r", "app", ms[1], tag))
	}
	linkBlob(t, s, "r", "other", "config")
	must(t, s.PutManifest(ctx, "r", "other", ms[0], "elsewhere"))

	want := []struct {
		m    *berth.Manifest
		tags []string
	}{{ms[2], []string{"latest"}}, {ms[1], []string{"V2", "_z", "a", "b"}}, {ms[0], nil}}
	infos, err = s.ManifestInfos(ctx, "r", "app")
	must(t, err)
	if len(infos) != len(want) {
		t.Fatalf("ManifestInfos = %+v", infos)
	}
	for i, w := range want {
		got := infos[i]
		if got.Digest != w.m.Digest || got.MediaType != w.m.MediaType || got.ArtifactType != w.m.ArtifactType ||
			got.Size != w.m.Size() || !got.CreatedAt.Equal(w.m.CreatedAt) || got.Attributes != berth.AllEnabled {
			t.Fatalf("manifest %d = %+v, want %s created %v", i, got, w.m.Digest, w.m.CreatedAt)
		}
		wantStrings(t, "tags of "+string(got.Digest), got.Tags, w.tags)
		one, err := s.ManifestInfo(ctx, "r", "app", w.m.Digest)
		must(t, err)
		if one.Digest != got.Digest || one.Size != got.Size || !one.CreatedAt.Equal(got.CreatedAt) {
			t.Fatalf("ManifestInfo = %+v, want %+v", one, got)
		}
		wantStrings(t, "ManifestInfo tags", one.Tags, w.tags)
	}

	locks := berth.Attributes{DeleteEnabled: true, WriteEnabled: false, ReadEnabled: false, ListEnabled: false}
	must(t, s.SetManifestAttributes(ctx, "r", "app", ms[1].Digest, locks))
	one, err := s.ManifestInfo(ctx, "r", "app", ms[1].Digest)
	must(t, err)
	if one.Attributes != locks {
		t.Fatalf("attributes = %+v, want %+v", one.Attributes, locks)
	}
	infos, err = s.ManifestInfos(ctx, "r", "app")
	must(t, err)
	if len(infos) != 3 || infos[1].Attributes != locks || infos[0].Attributes != berth.AllEnabled {
		t.Fatalf("ManifestInfos after locking = %+v", infos)
	}
	elsewhere, err := s.ManifestInfo(ctx, "r", "other", ms[0].Digest)
	must(t, err)
	wantStrings(t, "tags in the other repository", elsewhere.Tags, []string{"elsewhere"})

	missing := digest.FromString("missing")
	_, err = s.ManifestInfo(ctx, "r", "app", missing)
	wantKind(t, err, berth.KindNotFound)
	wantKind(t, s.SetManifestAttributes(ctx, "r", "app", missing, locks), berth.KindNotFound)
	wantKind(t, s.SetManifestAttributes(ctx, "r", "other", ms[1].Digest, locks), berth.KindNotFound)
}
