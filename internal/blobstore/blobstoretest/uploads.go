package blobstoretest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

func testChunkedWrites(t *testing.T, h *harness) {
	reg := h.registry()
	chunks := []string{"first chunk|", "2|", "", "a somewhat longer third chunk|", "end"}
	var all []byte
	for i, c := range chunks {
		h.write(reg, "u1", int64(len(all)), []byte(c))
		all = append(all, c...)
		wantBytes(t, fmt.Sprintf("upload after chunk %d", i), h.readUpload(reg, "u1", int64(len(all))), all)
	}
	d := digest.FromBytes(all)
	h.commit(reg, "u1", int64(len(all)), d)
	wantBytes(t, "Get", h.get(reg, d, 0, -1), all)
}

func testLargeChunkedBlob(t *testing.T, h *harness) {
	reg := h.registry()
	data := content(5<<20+123, 2)
	sizes := []int{1 << 20, 333<<10 + 7, 64 << 10}
	for off, i := 0, 0; off < len(data); i++ {
		end := min(off+sizes[i%len(sizes)], len(data))
		h.write(reg, "big", int64(off), data[off:end])
		off = end
	}
	wantBytes(t, "ReadUpload of the whole upload", h.readUpload(reg, "big", int64(len(data))), data)

	d := digest.FromBytes(data)
	h.commit(reg, "big", int64(len(data)), d)
	if got := h.stat(reg, d); got != int64(len(data)) {
		t.Fatalf("Stat = %d, want %d", got, len(data))
	}
	wantBytes(t, "Get whole", h.get(reg, d, 0, -1), data)
	wantBytes(t, "Get whole with WriteTo", h.copyGet(reg, d, 0, -1), data)
	off, n := int64(3<<20-5), int64(1<<20+11)
	wantBytes(t, "Get range", h.copyGet(reg, d, off, n), data[off:off+n])
	wantBytes(t, "Get tail", h.get(reg, d, off, -1), data[off:])
}

func testRewriteDiscardsTail(t *testing.T, h *harness) {
	reg := h.registry()
	h.write(reg, "u1", 0, []byte("0123456789"))
	h.write(reg, "u1", 4, []byte("ab"))
	wantBytes(t, "upload after rewrite", h.readUpload(reg, "u1", 6), []byte("0123ab"))

	_, err := h.s.ReadUpload(h.ctx, reg, "u1", 10)
	wantKind(t, "ReadUpload of the discarded tail", err, berth.KindInvalid)
	err = h.s.CommitUpload(h.ctx, reg, "u1", 10, digest.FromString("0123456789"))
	wantKind(t, "CommitUpload including the discarded tail", err, berth.KindInvalid)

	// Rewriting from offset 0 replaces everything.
	h.write(reg, "u1", 0, []byte("xyz"))
	wantBytes(t, "upload after rewrite from 0", h.readUpload(reg, "u1", 3), []byte("xyz"))
	d := digest.FromString("xyz")
	h.commit(reg, "u1", 3, d)
	wantBytes(t, "Get", h.get(reg, d, 0, -1), []byte("xyz"))
}

// failingReader returns data and then fails with err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func testRetryAfterPartialWrite(t *testing.T, h *harness) {
	reg := h.registry()
	h.write(reg, "u1", 0, []byte("hello "))

	errCut := errors.New("connection cut")
	n, err := h.s.WriteUpload(h.ctx, reg, "u1", 6, &failingReader{data: []byte("wor"), err: errCut})
	if err == nil {
		t.Fatal("WriteUpload from a failing reader: got no error")
	}
	var be *berth.Error
	if !errors.As(err, &be) {
		t.Fatalf("WriteUpload from a failing reader: got %T %v, want an *berth.Error", err, err)
	}
	if !errors.Is(err, errCut) {
		t.Errorf("WriteUpload from a failing reader: %v does not wrap the reader's error", err)
	}
	if n < 0 || n > 3 {
		t.Errorf("WriteUpload from a failing reader wrote %d bytes, want 0 to 3", n)
	}

	// The reader's *berth.Error keeps its kind.
	tooLarge := berth.E("test.limit", berth.KindTooLarge, "upload exceeds the size limit")
	_, err = h.s.WriteUpload(h.ctx, reg, "u1", 6, &failingReader{data: []byte("w"), err: tooLarge})
	wantKind(t, "WriteUpload from a reader failing with KindTooLarge", err, berth.KindTooLarge)

	// The client retries from its last acknowledged offset.
	h.write(reg, "u1", 6, []byte("world"))
	wantBytes(t, "upload after retry", h.readUpload(reg, "u1", 11), []byte("hello world"))
	d := digest.FromString("hello world")
	h.commit(reg, "u1", 11, d)
	wantBytes(t, "Get", h.get(reg, d, 0, -1), []byte("hello world"))
}

func testWriteBeyondSize(t *testing.T, h *harness) {
	reg := h.registry()
	h.write(reg, "u1", 0, []byte("abcd"))

	_, err := h.s.WriteUpload(h.ctx, reg, "u1", 5, strings.NewReader("gap"))
	wantKind(t, "WriteUpload past the end", err, berth.KindInvalid)
	wantBytes(t, "upload after a refused write", h.readUpload(reg, "u1", 4), []byte("abcd"))
	err = h.s.CommitUpload(h.ctx, reg, "u1", 5, digest.FromString("abcdg"))
	wantKind(t, "CommitUpload after a refused write", err, berth.KindInvalid)

	// Writing exactly at the end appends.
	h.write(reg, "u1", 4, []byte("e"))
	wantBytes(t, "upload after append", h.readUpload(reg, "u1", 5), []byte("abcde"))

	// An upload that does not exist starts at offset 0 only.
	_, err = h.s.WriteUpload(h.ctx, reg, "fresh", 3, strings.NewReader("xyz"))
	wantKind(t, "WriteUpload at offset 3 of a new upload", err, berth.KindInvalid)
	_, err = h.s.ReadUpload(h.ctx, reg, "fresh", 0)
	wantKind(t, "ReadUpload of an upload refused at creation", err, berth.KindNotFound)
}

func testReadUploadPrefix(t *testing.T, h *harness) {
	reg := h.registry()
	data := []byte("0123456789")
	h.write(reg, "u1", 0, data)
	for _, n := range []int64{0, 1, 4, 9, 10} {
		t.Run(fmt.Sprintf("first %d", n), func(t *testing.T) {
			wantBytes(t, fmt.Sprintf("ReadUpload(%d)", n), h.readUpload(reg, "u1", n), data[:n])
		})
	}
	_, err := h.s.ReadUpload(h.ctx, reg, "u1", 11)
	wantKind(t, "ReadUpload past the end", err, berth.KindInvalid)
}

func testAbort(t *testing.T, h *harness) {
	reg := h.registry()
	h.write(reg, "u1", 0, []byte("abandoned"))
	if err := h.s.AbortUpload(h.ctx, reg, "u1"); err != nil {
		t.Fatalf("AbortUpload: %v", err)
	}
	_, err := h.s.ReadUpload(h.ctx, reg, "u1", 0)
	wantKind(t, "ReadUpload after abort", err, berth.KindNotFound)
	err = h.s.CommitUpload(h.ctx, reg, "u1", 9, digest.FromString("abandoned"))
	wantKind(t, "CommitUpload after abort", err, berth.KindNotFound)
	_, err = h.s.WriteUpload(h.ctx, reg, "u1", 9, strings.NewReader("more"))
	wantKind(t, "WriteUpload at the old offset after abort", err, berth.KindInvalid)

	for _, tc := range []struct{ name, reg, id string }{
		{"aborted twice", reg, "u1"},
		{"never written", reg, "never"},
		{"registry never used", h.registry(), "never"},
	} {
		if err := h.s.AbortUpload(h.ctx, tc.reg, tc.id); err != nil {
			t.Errorf("AbortUpload (%s): %v", tc.name, err)
		}
	}

	// The id can start a new upload.
	h.write(reg, "u1", 0, []byte("new"))
	wantBytes(t, "new upload under the old id", h.readUpload(reg, "u1", 3), []byte("new"))
}
