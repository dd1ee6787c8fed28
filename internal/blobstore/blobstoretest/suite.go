package blobstoretest

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "crypto/sha256" // makes digest.SHA256 available
	_ "crypto/sha512" // makes digest.SHA512 available
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// Run runs the shared BlobStore suite as parallel subtests of t and returns
// when all of them have finished. It calls newStore once per subtest, with
// that subtest's t (so t.TempDir and t.Cleanup work as expected); the stores
// may share one backend, because every subtest uses registry names of its
// own, drawn afresh for every call of Run. One more store, made with the
// group's t, tells which optional capabilities the store has; the cases of
// each capability it has (PutBlob) run on that store.
func Run(t *testing.T, newStore func(t *testing.T) berth.BlobStore) {
	t.Helper()
	var seed [4]byte
	if _, err := rand.Read(seed[:]); err != nil {
		t.Fatal(err)
	}
	names := &registryNames{prefix: "bst" + hex.EncodeToString(seed[:])}
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"WriteCommitGet", testWriteCommitGet},
		{"GetRange", testGetRange},
		{"Digests", testDigests},
		{"EmptyBlob", testEmptyBlob},
		{"ChunkedWrites", testChunkedWrites},
		{"LargeChunkedBlob", testLargeChunkedBlob},
		{"RewriteDiscardsTail", testRewriteDiscardsTail},
		{"RetryAfterPartialWrite", testRetryAfterPartialWrite},
		{"WriteBeyondSize", testWriteBeyondSize},
		{"ReadUploadPrefix", testReadUploadPrefix},
		{"CommitExisting", testCommitExisting},
		{"CommitTooLarge", testCommitTooLarge},
		{"CommitPrefix", testCommitPrefix},
		{"ConcurrentCommit", testConcurrentCommit},
		{"Abort", testAbort},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"Isolation", testIsolation},
		{"InvalidRegistry", testInvalidRegistry},
		{"InvalidUploadID", testInvalidUploadID},
		{"InvalidDigest", testInvalidDigest},
		{"InvalidArguments", testInvalidArguments},
	}
	// The group returns only when its parallel subtests are done, so the
	// caller's own cleanup after Run cannot pull the backend away early.
	t.Run("BlobStore", func(t *testing.T) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.fn(t, &harness{t: t, s: newStore(t), ctx: t.Context(), names: names})
			})
		}
		// Optional capabilities are tested when the store has them.
		s := newStore(t)
		if p, ok := s.(blobPutter); ok {
			t.Run("PutBlob", func(t *testing.T) {
				t.Parallel()
				runPutBlob(t, s, p, names)
			})
		}
	})
}

// registryNames hands out registry names no other subtest or run uses.
type registryNames struct {
	prefix string
	n      atomic.Int64
}

func (r *registryNames) next() string {
	return fmt.Sprintf("%s%d", r.prefix, r.n.Add(1))
}

// harness is one subtest's store with helpers that fail the test on
// unexpected errors.
type harness struct {
	t     *testing.T
	s     berth.BlobStore
	ctx   context.Context
	names *registryNames
}

// registry returns a fresh registry name.
func (h *harness) registry() string { return h.names.next() }

// write writes data into upload id at offset and checks that all of it was
// written.
func (h *harness) write(registry, id string, offset int64, data []byte) {
	h.t.Helper()
	n, err := h.s.WriteUpload(h.ctx, registry, id, offset, bytes.NewReader(data))
	if err != nil {
		h.t.Fatalf("WriteUpload(%s, %s, %d): %v", registry, id, offset, err)
	}
	if n != int64(len(data)) {
		h.t.Fatalf("WriteUpload(%s, %s, %d) wrote %d bytes, want %d", registry, id, offset, n, len(data))
	}
}

// commit commits the first size bytes of upload id as dgst.
func (h *harness) commit(registry, id string, size int64, dgst digest.Digest) {
	h.t.Helper()
	if err := h.s.CommitUpload(h.ctx, registry, id, size, dgst); err != nil {
		h.t.Fatalf("CommitUpload(%s, %s, %d, %s): %v", registry, id, size, dgst, err)
	}
}

// put stores data as a blob of the registry through upload id and returns
// its sha256 digest.
func (h *harness) put(registry, id string, data []byte) digest.Digest {
	h.t.Helper()
	h.write(registry, id, 0, data)
	d := digest.FromBytes(data)
	h.commit(registry, id, int64(len(data)), d)
	return d
}

// get reads blob dgst from offset (length < 0: to the end) with Read calls.
func (h *harness) get(registry string, dgst digest.Digest, offset, length int64) []byte {
	h.t.Helper()
	rc, err := h.s.Get(h.ctx, registry, dgst, offset, length)
	if err != nil {
		h.t.Fatalf("Get(%s, %s, %d, %d): %v", registry, dgst, offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		h.t.Fatalf("reading Get(%s, %s, %d, %d): %v", registry, dgst, offset, length, err)
	}
	return b
}

// copyGet reads blob dgst like get but with io.Copy, which uses the
// reader's WriteTo when it has one.
func (h *harness) copyGet(registry string, dgst digest.Digest, offset, length int64) []byte {
	h.t.Helper()
	rc, err := h.s.Get(h.ctx, registry, dgst, offset, length)
	if err != nil {
		h.t.Fatalf("Get(%s, %s, %d, %d): %v", registry, dgst, offset, length, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, rc); err != nil {
		h.t.Fatalf("copying Get(%s, %s, %d, %d): %v", registry, dgst, offset, length, err)
	}
	return buf.Bytes()
}

// readUpload reads the first size bytes of upload id.
func (h *harness) readUpload(registry, id string, size int64) []byte {
	h.t.Helper()
	rc, err := h.s.ReadUpload(h.ctx, registry, id, size)
	if err != nil {
		h.t.Fatalf("ReadUpload(%s, %s, %d): %v", registry, id, size, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		h.t.Fatalf("reading ReadUpload(%s, %s, %d): %v", registry, id, size, err)
	}
	return b
}

// stat returns the size of blob dgst.
func (h *harness) stat(registry string, dgst digest.Digest) int64 {
	h.t.Helper()
	n, err := h.s.Stat(h.ctx, registry, dgst)
	if err != nil {
		h.t.Fatalf("Stat(%s, %s): %v", registry, dgst, err)
	}
	return n
}

// wantKind fails unless err is an *berth.Error of kind want. what names the
// call for the failure message.
func wantKind(t *testing.T, what string, err error, want berth.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want kind %q", what, want)
	}
	var be *berth.Error
	if !errors.As(err, &be) {
		t.Fatalf("%s: got %T %v, want an *berth.Error of kind %q", what, err, err, want)
	}
	if got := berth.KindOf(err); got != want {
		t.Fatalf("%s: got kind %q (%v), want %q", what, got, err, want)
	}
}

// wantMentions fails unless err's client-safe message contains every part.
func wantMentions(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	msg := berth.Message(err)
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("%s: message %q does not mention %q", what, msg, p)
		}
	}
}

// wantBytes fails unless got equals want, without printing megabytes.
func wantBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	if len(want) <= 64 && len(got) <= 64 {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Fatalf("%s: got %d bytes, want %d; first difference at byte %d", what, len(got), len(want), i)
}

// content returns n bytes of pseudo-random data that depend only on seed.
func content(n int, seed byte) []byte {
	var key [32]byte
	key[0] = seed
	b := make([]byte, n)
	_, _ = mrand.NewChaCha8(key).Read(b)
	return b
}
