package blobstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// blobPutter is the optional capability of a BlobStore to store a whole blob
// that arrives in one stream. PutBlob reads r to its end, calls check with
// the number of bytes read, and makes them blob dgst only when check returns
// nil, returning check's error as it is otherwise. An existing blob keeps its
// content.
type blobPutter interface {
	PutBlob(ctx context.Context, registry string, dgst digest.Digest, r io.Reader, check func(size int64) error) (int64, error)
}

// putHarness is a harness whose store has PutBlob.
type putHarness struct {
	harness
	p blobPutter
}

// runPutBlob runs the PutBlob cases as parallel subtests of t, all on store
// s (each in registries of its own).
func runPutBlob(t *testing.T, s berth.BlobStore, p blobPutter, names *registryNames) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *putHarness)
	}{
		{"StoresBlob", testPutBlobStores},
		{"CheckRefuses", testPutBlobCheckRefuses},
		{"FailingReader", testPutBlobFailingReader},
		{"Existing", testPutBlobExisting},
		{"CanceledContext", testPutBlobCanceled},
		{"InvalidNames", testPutBlobInvalidNames},
		{"Concurrent", testPutBlobConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, &putHarness{harness: harness{t: t, s: s, ctx: t.Context(), names: names}, p: p})
		})
	}
}

// checker is a check function for PutBlob that records its calls and
// answers err.
type checker struct {
	calls int
	size  int64
	err   error
	// src, when set, must be exhausted by the time check is called.
	src *trackingReader
}

func (c *checker) check(size int64) error {
	c.calls++
	c.size = size
	if c.src != nil && !c.src.eof {
		return errors.New("check was called before the reader reached its end")
	}
	return c.err
}

// trackingReader reads from r and records whether it was read at all and
// whether it returned io.EOF.
type trackingReader struct {
	r    io.Reader
	read bool
	eof  bool
}

func (r *trackingReader) Read(p []byte) (int, error) {
	r.read = true
	n, err := r.r.Read(p)
	if err == io.EOF {
		r.eof = true
	}
	return n, err
}

// on returns h reporting to t, for use inside subtests.
func (h *putHarness) on(t *testing.T) *putHarness {
	g := *h
	g.t = t
	return &g
}

// putBlob stores data as blob d with PutBlob, checking the size reported to
// check and returned.
func (h *putHarness) putBlob(registry string, d digest.Digest, data []byte) {
	h.t.Helper()
	src := &trackingReader{r: bytes.NewReader(data)}
	c := &checker{src: src}
	n, err := h.p.PutBlob(h.ctx, registry, d, src, c.check)
	if err != nil {
		h.t.Fatalf("PutBlob(%s, %s): %v", registry, d, err)
	}
	if n != int64(len(data)) {
		h.t.Fatalf("PutBlob(%s, %s) = %d, want %d", registry, d, n, len(data))
	}
	if c.calls != 1 || c.size != int64(len(data)) {
		h.t.Fatalf("PutBlob(%s, %s) called check %d times, last with %d; want once with %d", registry, d, c.calls, c.size, len(data))
	}
}

// wantNoBlob fails unless Stat and Get of blob d are KindNotFound.
func (h *putHarness) wantNoBlob(registry string, d digest.Digest, what string) {
	h.t.Helper()
	_, err := h.s.Stat(h.ctx, registry, d)
	wantKind(h.t, "Stat "+what, err, berth.KindNotFound)
	_, err = h.s.Get(h.ctx, registry, d, 0, -1)
	wantKind(h.t, "Get "+what, err, berth.KindNotFound)
}

func testPutBlobStores(t *testing.T, h *putHarness) {
	reg, other := h.registry(), h.registry()
	tests := []struct {
		name string
		data []byte
		alg  digest.Algorithm
	}{
		{"small", []byte("a layer in one request"), digest.SHA256},
		{"empty", nil, digest.SHA256},
		{"sha512", []byte("a layer in one request"), digest.SHA512},
		{"larger than a copy buffer", content(3<<20+17, 3), digest.SHA256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.on(t)
			d := tc.alg.FromBytes(tc.data)
			h.putBlob(reg, d, tc.data)
			if got := h.stat(reg, d); got != int64(len(tc.data)) {
				t.Fatalf("Stat = %d, want %d", got, len(tc.data))
			}
			wantBytes(t, "Get", h.get(reg, d, 0, -1), tc.data)
			wantBytes(t, "Get with WriteTo", h.copyGet(reg, d, 0, -1), tc.data)
			if n := int64(len(tc.data)); n > 2 {
				wantBytes(t, "Get range", h.get(reg, d, 1, n-2), tc.data[1:n-1])
			}
			h.wantNoBlob(other, d, "in another registry")
		})
	}
	// A blob stored by PutBlob is deleted like any other.
	d := digest.FromBytes(tests[0].data)
	if err := h.s.Delete(h.ctx, reg, d); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	h.wantNoBlob(reg, d, "after Delete")
}

func testPutBlobCheckRefuses(t *testing.T, h *putHarness) {
	reg := h.registry()
	data := []byte("content that fails verification")
	d := digest.FromBytes(data)
	tests := []struct {
		name string
		err  error
	}{
		{"plain error", errors.New("digest mismatch")},
		{"berth error", berth.E("test.check", berth.KindInvalid, "digest mismatch")},
		{"size limit", berth.E("test.check", berth.KindTooLarge, "blob exceeds the size limit")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.on(t)
			src := &trackingReader{r: bytes.NewReader(data)}
			c := &checker{err: tc.err, src: src}
			_, err := h.p.PutBlob(h.ctx, reg, d, src, c.check)
			if err != tc.err {
				t.Fatalf("PutBlob with a refusing check = %v (%T), want check's error %v itself", err, err, tc.err)
			}
			if c.calls != 1 || c.size != int64(len(data)) {
				t.Fatalf("check called %d times, last with %d; want once with %d", c.calls, c.size, len(data))
			}
			h.wantNoBlob(reg, d, "after a refused PutBlob")
		})
	}
	// Nothing of the refused attempts stands in the way of a good one.
	h.putBlob(reg, d, data)
	wantBytes(t, "Get after refused attempts", h.get(reg, d, 0, -1), data)
}

func testPutBlobFailingReader(t *testing.T, h *putHarness) {
	reg := h.registry()
	data := []byte("hello world")
	d := digest.FromBytes(data)
	errCut := errors.New("connection cut")
	tests := []struct {
		name string
		err  error
		want berth.Kind
	}{
		{"plain error", errCut, berth.KindInvalid},
		{"berth error keeps its kind", berth.E("test.limit", berth.KindTooLarge, "blob exceeds the size limit"), berth.KindTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.on(t)
			c := &checker{}
			_, err := h.p.PutBlob(h.ctx, reg, d, &failingReader{data: data[:5], err: tc.err}, c.check)
			wantKind(t, "PutBlob from a failing reader", err, tc.want)
			if !errors.Is(err, tc.err) {
				t.Errorf("PutBlob from a failing reader: %v does not wrap the reader's error", err)
			}
			if c.calls != 0 {
				t.Errorf("check was called %d times for a reader that failed", c.calls)
			}
			h.wantNoBlob(reg, d, "after a failed read")
		})
	}
	h.putBlob(reg, d, data)
	wantBytes(t, "Get after failed attempts", h.get(reg, d, 0, -1), data)
}

func testPutBlobExisting(t *testing.T, h *putHarness) {
	old := []byte("the content stored first")
	// Different bytes of the same length under the same digest make it
	// visible whether a second PutBlob replaced the blob.
	other := []byte("THE CONTENT STORED AGAIN")[:len(old)]
	tests := []struct {
		name  string
		store func(h *putHarness, registry string) digest.Digest
	}{
		{"committed upload", func(h *putHarness, registry string) digest.Digest {
			return h.put(registry, "first", old)
		}},
		{"earlier PutBlob", func(h *putHarness, registry string) digest.Digest {
			d := digest.FromBytes(old)
			h.putBlob(registry, d, old)
			return d
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.on(t)
			reg := h.registry()
			d := tc.store(h, reg)
			c := &checker{}
			if _, err := h.p.PutBlob(h.ctx, reg, d, bytes.NewReader(other), c.check); err != nil {
				t.Fatalf("PutBlob of an existing blob: %v", err)
			}
			if got := h.stat(reg, d); got != int64(len(old)) {
				t.Fatalf("Stat = %d, want %d", got, len(old))
			}
			wantBytes(t, "Get after the second PutBlob", h.get(reg, d, 0, -1), old)
		})
	}
}

func testPutBlobCanceled(t *testing.T, h *putHarness) {
	reg := h.registry()
	data := content(2<<20, 4)
	d := digest.FromBytes(data)

	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	src := &trackingReader{r: bytes.NewReader(data)}
	c := &checker{}
	_, err := h.p.PutBlob(ctx, reg, d, src, c.check)
	wantKind(t, "PutBlob with a canceled context", err, berth.KindUnavailable)
	if src.read || c.calls != 0 {
		t.Errorf("PutBlob with a canceled context read the body (%t) or called check %d times", src.read, c.calls)
	}
	h.wantNoBlob(reg, d, "after a canceled PutBlob")

	// Canceled while the body is read.
	ctx, cancel = context.WithCancel(h.ctx)
	defer cancel()
	c = &checker{}
	_, err = h.p.PutBlob(ctx, reg, d, &cancelingReader{r: bytes.NewReader(data), after: 64 << 10, cancel: cancel}, c.check)
	wantKind(t, "PutBlob canceled while reading", err, berth.KindUnavailable)
	if c.calls != 0 {
		t.Errorf("check was called %d times for a canceled read", c.calls)
	}
	h.wantNoBlob(reg, d, "after a PutBlob canceled while reading")
}

// cancelingReader reads from r and calls cancel once it has returned after
// bytes.
type cancelingReader struct {
	r      io.Reader
	after  int
	n      int
	cancel context.CancelFunc
}

func (r *cancelingReader) Read(p []byte) (int, error) {
	if r.n >= r.after {
		r.cancel()
	}
	n, err := r.r.Read(p[:min(len(p), 16<<10)])
	r.n += n
	return n, err
}

func testPutBlobInvalidNames(t *testing.T, h *putHarness) {
	reg := h.registry()
	good := digest.FromString("content")
	type target struct {
		name     string
		registry string
		d        digest.Digest
	}
	var tests []target
	for _, r := range invalidRegistries {
		tests = append(tests, target{fmt.Sprintf("registry %q", r), r, good})
	}
	for _, d := range invalidDigests {
		tests = append(tests, target{fmt.Sprintf("digest %q", d), reg, d})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &trackingReader{r: strings.NewReader("content")}
			c := &checker{}
			_, err := h.p.PutBlob(h.ctx, tc.registry, tc.d, src, c.check)
			wantKind(t, "PutBlob", err, berth.KindInvalid)
			if src.read || c.calls != 0 {
				t.Errorf("refused PutBlob read the body (%t) or called check %d times", src.read, c.calls)
			}
		})
	}
	h.wantNoBlob(reg, good, "after refused calls")
}

func testPutBlobConcurrent(t *testing.T, h *putHarness) {
	const writers = 8
	reg := h.registry()
	data := content(256<<10, 5)
	d := digest.FromBytes(data)

	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			// Each writer verifies its stream as the registry API does.
			hasher := d.Algorithm().Hash()
			_, errs[i] = h.p.PutBlob(h.ctx, reg, d, io.TeeReader(bytes.NewReader(data), hasher), func(int64) error {
				if got := digest.NewDigest(d.Algorithm(), hasher); got != d {
					return fmt.Errorf("writer %d read content of digest %s", i, got)
				}
				return nil
			})
		})
	}
	wg.Wait()
	wantWritersDone(t, &h.harness, reg, d, data, errs)
}
