package metadatatest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// Media types used by the suite.
const (
	imageManifest = "application/vnd.oci.image.manifest.v1+json"
	imageIndex    = "application/vnd.oci.image.index.v1+json"
)

// Store is what the suite tests: a metadata store with the identity, key
// and content administration interfaces.
type Store interface {
	berth.MetadataStore
	berth.IdentityStore
	berth.KeyStore
	berth.ContentAdmin
}

// Run runs the suite. newStore must return a new, empty store at every call
// and close it when the test that asked for it ends. The tests run in
// parallel, each on its own store; the cases of an optional capability
// (LinkUploadedBlob, CloseStaleUploads) run, when the store has it, on a
// store of their own made with t.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"Registries", testRegistries},
		{"RegistryAliases", testRegistryAliases},
		{"LinkBlob", testLinkBlob},
		{"BlobIsolation", testBlobIsolation},
		{"UnlinkBlob", testUnlinkBlob},
		{"PutManifestRoundTrip", testPutManifestRoundTrip},
		{"PutManifestMissingBlob", testPutManifestMissingBlob},
		{"PutManifestBlobOfOtherRepository", testPutManifestBlobOfOtherRepository},
		{"PutIndexMissingChild", testPutIndexMissingChild},
		{"PutManifestAgain", testPutManifestAgain},
		{"PutManifestInvalid", testPutManifestInvalid},
		{"TagMoves", testTagMoves},
		{"DeleteManifest", testDeleteManifest},
		{"DeleteTag", testDeleteTag},
		{"Tags", testTags},
		{"Repositories", testRepositories},
		{"Referrers", testReferrers},
		{"Uploads", testUploads},
		{"AdvanceUpload", testAdvanceUpload},
		{"ConcurrentPuts", testConcurrentPuts},
		{"Settings", testSettings},
		{"Secrets", testSecrets},
		{"ScopeMaps", testScopeMaps},
		{"Tokens", testTokens},
		{"DeleteRegistry", testDeleteRegistry},
		{"SigningKeys", testSigningKeys},
		{"LockedRepositoryWrite", testLockedRepositoryWrite},
		{"LockedTagWrite", testLockedTagWrite},
		{"LockedManifestKeepsTags", testLockedManifestKeepsTags},
		{"LockedDeleteTag", testLockedDeleteTag},
		{"LockedDeleteManifest", testLockedDeleteManifest},
		{"LockedUnlinkBlob", testLockedUnlinkBlob},
		{"DeleteRepository", testDeleteRepository},
		{"LockedReads", testLockedReads},
		{"ListFiltering", testListFiltering},
		{"RepositoryInfo", testRepositoryInfo},
		{"TagInfos", testTagInfos},
		{"ManifestInfos", testManifestInfos},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
	// Optional capabilities are tested when the store has them, on one
	// more store that tells whether it has them.
	s := newStore(t)
	if l, ok := s.(uploadLinker); ok {
		t.Run("LinkUploadedBlob", func(t *testing.T) {
			t.Parallel()
			runLinkUploadedBlob(t, s, l)
		})
	}
	own := newStore(t)
	if c, ok := own.(staleUploadCloser); ok {
		t.Run("CloseStaleUploads", func(t *testing.T) {
			t.Parallel()
			testCloseStaleUploads(t, own, c)
		})
	}
}

// wantKind fails the test unless err is a *berth.Error of kind want.
func wantKind(t *testing.T, err error, want berth.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one of kind %v", want)
	}
	var be *berth.Error
	if !errors.As(err, &be) {
		t.Fatalf("error %q (%T) is not a *berth.Error", err, err)
	}
	if got := berth.KindOf(err); got != want {
		t.Fatalf("error %q is of kind %v, want %v", err, got, want)
	}
}

// wantDenied fails the test unless err is of KindDenied with a message that
// contains every one of parts.
func wantDenied(t *testing.T, err error, parts ...string) {
	t.Helper()
	wantKind(t, err, berth.KindDenied)
	for _, p := range parts {
		if msg := berth.Message(err); !strings.Contains(msg, p) {
			t.Fatalf("message %q does not contain %q", msg, p)
		}
	}
}

// must fails the test when err is not nil.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// linkBlob links a new blob with content to repo and returns its digest.
func linkBlob(t *testing.T, s berth.MetadataStore, registry, repo, content string) digest.Digest {
	t.Helper()
	d := digest.FromString(content)
	must(t, s.LinkBlob(t.Context(), registry, repo, d, int64(len(content))))
	return d
}

// newManifest returns an image manifest whose payload names seed and whose
// references are refs.
func newManifest(seed string, refs ...berth.Reference) *berth.Manifest {
	payload := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"seed":%q}`, imageManifest, seed)
	return &berth.Manifest{
		Digest:     digest.FromBytes(payload),
		MediaType:  imageManifest,
		Payload:    payload,
		References: refs,
	}
}

// blobRef and manifestRef return references to a blob and a child manifest.
func blobRef(d digest.Digest) berth.Reference     { return berth.Reference{Digest: d} }
func manifestRef(d digest.Digest) berth.Reference { return berth.Reference{Digest: d, Manifest: true} }

// putImage links a config and a layer to repo and stores a manifest
// referencing them under tag ("" for none).
func putImage(t *testing.T, s berth.MetadataStore, registry, repo, seed, tag string) *berth.Manifest {
	t.Helper()
	cfg := linkBlob(t, s, registry, repo, "config "+seed)
	layer := linkBlob(t, s, registry, repo, "layer "+seed)
	m := newManifest(seed, blobRef(cfg), blobRef(layer))
	must(t, s.PutManifest(t.Context(), registry, repo, m, tag))
	return m
}

// wantTag fails the test unless tag of repo points to want.
func wantTag(t *testing.T, s berth.MetadataStore, registry, repo, tag string, want digest.Digest) {
	t.Helper()
	got, err := s.Tag(t.Context(), registry, repo, tag)
	if err != nil {
		t.Fatalf("Tag(%q): %v", tag, err)
	}
	if got != want {
		t.Fatalf("tag %q points to %s, want %s", tag, got, want)
	}
}

// wantStrings fails the test unless got and want hold the same strings in the
// same order.
func wantStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) && (len(got) != 0 || len(want) != 0) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}
