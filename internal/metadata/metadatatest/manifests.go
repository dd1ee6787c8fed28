package metadatatest

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

func testPutManifestRoundTrip(t *testing.T, s Store) {
	ctx := t.Context()
	cfg := linkBlob(t, s, "r", "app", "config")
	layer := linkBlob(t, s, "r", "app", "layer")
	subject := putImage(t, s, "r", "app", "subject", "")

	created := time.Date(2023, 1, 2, 3, 4, 5, 600, time.UTC)
	// A payload of bytes that are not text, and that SQLite would read as
	// a number if it were text, must come back intact.
	payload := []byte("12345\x00\xff\xfe\n\"binary")
	m := &berth.Manifest{
		Digest:       digest.FromBytes(payload),
		MediaType:    imageManifest,
		ArtifactType: "application/vnd.example.sbom",
		Subject:      subject.Digest,
		Annotations:  map[string]string{"org.opencontainers.image.title": "sbom", "k": "v"},
		Payload:      payload,
		References:   []berth.Reference{blobRef(layer), blobRef(cfg), blobRef(layer)},
		CreatedAt:    created,
	}
	must(t, s.PutManifest(ctx, "r", "app", m, "v1"))
	wantTag(t, s, "r", "app", "v1", m.Digest)

	got, err := s.Manifest(ctx, "r", "app", m.Digest)
	must(t, err)
	if got.Digest != m.Digest || got.MediaType != m.MediaType || got.ArtifactType != m.ArtifactType ||
		got.Subject != m.Subject || !got.CreatedAt.Equal(created) {
		t.Fatalf("Manifest = %+v, want %+v", got, m)
	}
	if !bytes.Equal(got.Payload, payload) {
		t.Fatalf("payload = %q, want %q", got.Payload, payload)
	}
	if !maps.Equal(got.Annotations, m.Annotations) {
		t.Fatalf("annotations = %v, want %v", got.Annotations, m.Annotations)
	}
	if !slices.Equal(got.References, m.References) {
		t.Fatalf("references = %v, want %v", got.References, m.References)
	}

	plain, err := s.Manifest(ctx, "r", "app", subject.Digest)
	must(t, err)
	if plain.Subject != "" || plain.ArtifactType != "" || plain.Annotations != nil ||
		plain.CreatedAt.IsZero() || !bytes.Equal(plain.Payload, subject.Payload) {
		t.Fatalf("Manifest without subject, artifact type or annotations = %+v", plain)
	}

	_, err = s.Manifest(ctx, "r", "app", digest.FromString("missing"))
	wantKind(t, err, berth.KindNotFound)
	_, err = s.Manifest(ctx, "r", "other", m.Digest)
	wantKind(t, err, berth.KindNotFound)
	_, err = s.Manifest(ctx, "r2", "app", m.Digest)
	wantKind(t, err, berth.KindNotFound)
	_, err = s.Tag(ctx, "r", "app", "missing")
	wantKind(t, err, berth.KindNotFound)
	if msg := berth.Message(err); !strings.Contains(msg, `"missing"`) || !strings.Contains(msg, `"app"`) {
		t.Fatalf("message %q does not name the tag and the repository", msg)
	}
}

// wantUnknownReference fails the test unless err refuses a manifest for its
// reference want.
func wantUnknownReference(t *testing.T, err error, want berth.Reference) {
	t.Helper()
	wantKind(t, err, berth.KindInvalid)
	var ure *berth.UnknownReferenceError
	if !errors.As(err, &ure) {
		t.Fatalf("error %q has no *berth.UnknownReferenceError cause", err)
	}
	if ure.Reference != want {
		t.Fatalf("unknown reference %+v, want %+v", ure.Reference, want)
	}
	if !strings.Contains(berth.Message(err), want.Digest.String()) {
		t.Fatalf("message %q does not name %s", berth.Message(err), want.Digest)
	}
}

// wantNothingStored fails the test unless m is absent from repo and tag does
// not exist.
func wantNothingStored(t *testing.T, s berth.MetadataStore, registry, repo string, m *berth.Manifest, tag string) {
	t.Helper()
	_, err := s.Manifest(t.Context(), registry, repo, m.Digest)
	wantKind(t, err, berth.KindNotFound)
	_, err = s.Tag(t.Context(), registry, repo, tag)
	wantKind(t, err, berth.KindNotFound)
}

func testPutManifestMissingBlob(t *testing.T, s Store) {
	ctx := t.Context()
	cfg := linkBlob(t, s, "r", "app", "config")
	missing := digest.FromString("never uploaded")
	m := newManifest("m", blobRef(cfg), blobRef(missing), blobRef(digest.FromString("also missing")))
	wantUnknownReference(t, s.PutManifest(ctx, "r", "app", m, "v1"), blobRef(missing))
	wantNothingStored(t, s, "r", "app", m, "v1")

	// Nothing at all is written in a repository that did not exist.
	err := s.PutManifest(ctx, "r", "new", newManifest("n", blobRef(missing)), "v1")
	wantUnknownReference(t, err, blobRef(missing))
	ok, err := s.RepositoryExists(ctx, "r", "new")
	must(t, err)
	if ok {
		t.Fatal("a refused PutManifest created its repository")
	}

	must(t, s.LinkBlob(ctx, "r", "app", missing, 14))
	must(t, s.LinkBlob(ctx, "r", "app", digest.FromString("also missing"), 12))
	must(t, s.PutManifest(ctx, "r", "app", m, "v1"))
	wantTag(t, s, "r", "app", "v1", m.Digest)
}

func testPutManifestBlobOfOtherRepository(t *testing.T, s Store) {
	ctx := t.Context()
	d := linkBlob(t, s, "r", "a", "layer")
	linkBlob(t, s, "other", "b", "layer")
	m := newManifest("m", blobRef(d))
	wantUnknownReference(t, s.PutManifest(ctx, "r", "b", m, "v1"), blobRef(d))
	wantNothingStored(t, s, "r", "b", m, "v1")

	must(t, s.LinkBlob(ctx, "r", "b", d, 5)) // the mount
	must(t, s.PutManifest(ctx, "r", "b", m, "v1"))
}

func testPutIndexMissingChild(t *testing.T, s Store) {
	ctx := t.Context()
	amd64 := newManifest("amd64", blobRef(linkBlob(t, s, "r", "app", "cfg amd64")))
	arm64 := newManifest("arm64", blobRef(linkBlob(t, s, "r", "app", "cfg arm64")))
	must(t, s.PutManifest(ctx, "r", "app", amd64, ""))
	// A child stored in another repository does not count.
	linkBlob(t, s, "r", "elsewhere", "cfg arm64")
	must(t, s.PutManifest(ctx, "r", "elsewhere", arm64, ""))

	index := newManifest("index", manifestRef(amd64.Digest), manifestRef(arm64.Digest))
	index.MediaType = imageIndex
	wantUnknownReference(t, s.PutManifest(ctx, "r", "app", index, "latest"), manifestRef(arm64.Digest))
	wantNothingStored(t, s, "r", "app", index, "latest")

	// A blob of the same digest is not a manifest.
	linkBlob(t, s, "r", "app", string(arm64.Payload))
	wantUnknownReference(t, s.PutManifest(ctx, "r", "app", index, "latest"), manifestRef(arm64.Digest))

	must(t, s.PutManifest(ctx, "r", "app", arm64, ""))
	must(t, s.PutManifest(ctx, "r", "app", index, "latest"))
	wantTag(t, s, "r", "app", "latest", index.Digest)
	got, err := s.Manifest(ctx, "r", "app", index.Digest)
	must(t, err)
	if got.MediaType != imageIndex || !slices.Equal(got.References, index.References) {
		t.Fatalf("index = %+v", got)
	}
}

func testPutManifestAgain(t *testing.T, s Store) {
	ctx := t.Context()
	m := putImage(t, s, "r", "app", "m", "v1")
	must(t, s.PutManifest(ctx, "r", "app", m, "v1"))
	must(t, s.PutManifest(ctx, "r", "app", m, ""))
	must(t, s.PutManifest(ctx, "r", "app", m, "v2"))
	wantTag(t, s, "r", "app", "v1", m.Digest)
	wantTag(t, s, "r", "app", "v2", m.Digest)
	tags, err := s.Tags(ctx, "r", "app", "", 0)
	must(t, err)
	wantStrings(t, "tags", tags, []string{"v1", "v2"})
}

func testPutManifestInvalid(t *testing.T, s Store) {
	ctx := t.Context()
	wantKind(t, s.PutManifest(ctx, "r", "app", nil, "v1"), berth.KindInvalid)
	wantKind(t, s.PutManifest(ctx, "r", "app", &berth.Manifest{Payload: []byte("{}")}, "v1"), berth.KindInvalid)
	ok, err := s.RepositoryExists(ctx, "r", "app")
	must(t, err)
	if ok {
		t.Fatal("an invalid PutManifest created its repository")
	}
}

func testTagMoves(t *testing.T, s Store) {
	ctx := t.Context()
	m1 := putImage(t, s, "r", "app", "one", "latest")
	wantTag(t, s, "r", "app", "latest", m1.Digest)
	m2 := putImage(t, s, "r", "app", "two", "latest")
	wantTag(t, s, "r", "app", "latest", m2.Digest)
	if _, err := s.Manifest(ctx, "r", "app", m1.Digest); err != nil {
		t.Fatalf("the manifest a tag moved away from: %v", err)
	}
	// The same tag name in another repository or registry is another tag.
	m3 := putImage(t, s, "r", "other", "three", "latest")
	putImage(t, s, "r2", "app", "four", "latest")
	wantTag(t, s, "r", "app", "latest", m2.Digest)
	wantTag(t, s, "r", "other", "latest", m3.Digest)
}

func testDeleteManifest(t *testing.T, s Store) {
	ctx := t.Context()
	m := putImage(t, s, "r", "app", "m", "v1")
	must(t, s.PutManifest(ctx, "r", "app", m, "v1.0"))
	keep := putImage(t, s, "r", "app", "keep", "keep")
	other := putImage(t, s, "r", "other", "m", "v1") // the same manifest elsewhere

	must(t, s.DeleteManifest(ctx, "r", "app", m.Digest))
	_, err := s.Manifest(ctx, "r", "app", m.Digest)
	wantKind(t, err, berth.KindNotFound)
	for _, tag := range []string{"v1", "v1.0"} {
		_, err := s.Tag(ctx, "r", "app", tag)
		wantKind(t, err, berth.KindNotFound)
	}
	tags, err := s.Tags(ctx, "r", "app", "", 0)
	must(t, err)
	wantStrings(t, "tags after delete", tags, []string{"keep"})
	wantTag(t, s, "r", "app", "keep", keep.Digest)
	wantTag(t, s, "r", "other", "v1", other.Digest)

	err = s.DeleteManifest(ctx, "r", "app", m.Digest)
	wantKind(t, err, berth.KindNotFound)
	if msg := berth.Message(err); !strings.Contains(msg, m.Digest.String()) {
		t.Fatalf("message %q does not name the manifest", msg)
	}

	// It can be pushed again.
	must(t, s.PutManifest(ctx, "r", "app", m, "v1"))
	wantTag(t, s, "r", "app", "v1", m.Digest)
}

func testDeleteTag(t *testing.T, s Store) {
	ctx := t.Context()
	m := putImage(t, s, "r", "app", "m", "v1")
	must(t, s.PutManifest(ctx, "r", "app", m, "v2"))
	must(t, s.DeleteTag(ctx, "r", "app", "v1"))
	_, err := s.Tag(ctx, "r", "app", "v1")
	wantKind(t, err, berth.KindNotFound)
	wantTag(t, s, "r", "app", "v2", m.Digest)
	if _, err := s.Manifest(ctx, "r", "app", m.Digest); err != nil {
		t.Fatalf("DeleteTag removed the manifest: %v", err)
	}
	wantKind(t, s.DeleteTag(ctx, "r", "app", "v1"), berth.KindNotFound)
	wantKind(t, s.DeleteTag(ctx, "r", "missing", "v2"), berth.KindNotFound)
}
