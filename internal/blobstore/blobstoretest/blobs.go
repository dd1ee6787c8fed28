package blobstoretest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

func testWriteCommitGet(t *testing.T, h *harness) {
	reg := h.registry()
	data := []byte("a layer of a container image")
	d := h.put(reg, "u1", data)

	if got := h.stat(reg, d); got != int64(len(data)) {
		t.Fatalf("Stat = %d, want %d", got, len(data))
	}
	wantBytes(t, "Get whole", h.get(reg, d, 0, -1), data)
	wantBytes(t, "Get whole with WriteTo", h.copyGet(reg, d, 0, -1), data)
	_, err := h.s.ReadUpload(h.ctx, reg, "u1", 0)
	wantKind(t, "ReadUpload after commit", err, berth.KindNotFound)
}

func testGetRange(t *testing.T, h *harness) {
	reg := h.registry()
	data := []byte("0123456789abcdef")
	d := h.put(reg, "u1", data)
	n := int64(len(data))

	tests := []struct {
		name           string
		offset, length int64
		want           string
	}{
		{"whole", 0, -1, "0123456789abcdef"},
		{"whole with length", 0, n, "0123456789abcdef"},
		{"offset only", 3, -1, "3456789abcdef"},
		{"offset and length", 2, 5, "23456"},
		{"prefix", 0, 4, "0123"},
		{"zero length", 4, 0, ""},
		{"zero length at start", 0, 0, ""},
		{"last byte", n - 1, 1, "f"},
		{"last byte to end", n - 1, -1, "f"},
		{"tail with exact length", 10, 6, "abcdef"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := h.get(reg, d, tc.offset, tc.length)
			wantBytes(t, fmt.Sprintf("Get(%d, %d)", tc.offset, tc.length), got, []byte(tc.want))
			got = h.copyGet(reg, d, tc.offset, tc.length)
			wantBytes(t, fmt.Sprintf("Get(%d, %d) with WriteTo", tc.offset, tc.length), got, []byte(tc.want))
		})
	}
}

func testDigests(t *testing.T, h *harness) {
	reg := h.registry()
	data := []byte("the same bytes under two algorithms")
	tests := []struct {
		name string
		alg  digest.Algorithm
	}{
		{"sha256", digest.SHA256},
		{"sha512", digest.SHA512},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := "u-" + tc.name
			h.write(reg, id, 0, data)
			d := tc.alg.FromBytes(data)
			h.commit(reg, id, int64(len(data)), d)
			if got := h.stat(reg, d); got != int64(len(data)) {
				t.Fatalf("Stat(%s) = %d, want %d", d, got, len(data))
			}
			wantBytes(t, "Get "+d.String(), h.get(reg, d, 0, -1), data)
		})
	}
	// Both blobs exist side by side, and deleting one leaves the other.
	d256, d512 := digest.SHA256.FromBytes(data), digest.SHA512.FromBytes(data)
	if err := h.s.Delete(h.ctx, reg, d256); err != nil {
		t.Fatalf("Delete(%s): %v", d256, err)
	}
	if got := h.stat(reg, d512); got != int64(len(data)) {
		t.Fatalf("Stat(%s) after deleting %s = %d, want %d", d512, d256, got, len(data))
	}
}

func testEmptyBlob(t *testing.T, h *harness) {
	reg := h.registry()
	d := h.put(reg, "u1", nil)
	if got := h.stat(reg, d); got != 0 {
		t.Fatalf("Stat of the empty blob = %d, want 0", got)
	}
	wantBytes(t, "Get empty blob", h.get(reg, d, 0, -1), nil)
	wantBytes(t, "Get empty blob with length 0", h.copyGet(reg, d, 0, 0), nil)
}

func testCommitExisting(t *testing.T, h *harness) {
	reg := h.registry()
	old := []byte("the content committed first")
	d := h.put(reg, "first", old)

	// Different bytes of the same length under the same digest make it
	// visible whether the second commit replaced the blob.
	other := []byte("THE CONTENT COMMITTED AGAIN")[:len(old)]
	h.write(reg, "second", 0, other)
	h.commit(reg, "second", int64(len(other)), d)

	wantBytes(t, "Get after second commit", h.get(reg, d, 0, -1), old)
	_, err := h.s.ReadUpload(h.ctx, reg, "second", 0)
	wantKind(t, "ReadUpload of the second upload", err, berth.KindNotFound)
}

func testCommitTooLarge(t *testing.T, h *harness) {
	reg := h.registry()
	data := []byte("12345")
	h.write(reg, "u1", 0, data)
	d := digest.FromBytes([]byte("1234567890"))

	err := h.s.CommitUpload(h.ctx, reg, "u1", 10, d)
	wantKind(t, "CommitUpload of 10 bytes from a 5-byte upload", err, berth.KindInvalid)
	_, err = h.s.Stat(h.ctx, reg, d)
	wantKind(t, "Stat after a failed commit", err, berth.KindNotFound)
	_, err = h.s.Get(h.ctx, reg, d, 0, -1)
	wantKind(t, "Get after a failed commit", err, berth.KindNotFound)
	wantBytes(t, "upload after a failed commit", h.readUpload(reg, "u1", 5), data)

	// The upload can still be finished and committed.
	h.write(reg, "u1", 5, []byte("67890"))
	h.commit(reg, "u1", 10, d)
	wantBytes(t, "Get", h.get(reg, d, 0, -1), []byte("1234567890"))
}

func testCommitPrefix(t *testing.T, h *harness) {
	reg := h.registry()
	data := []byte("0123456789")
	h.write(reg, "u1", 0, data)
	d := digest.FromBytes(data[:6])
	h.commit(reg, "u1", 6, d)

	if got := h.stat(reg, d); got != 6 {
		t.Fatalf("Stat = %d, want 6", got)
	}
	wantBytes(t, "Get", h.get(reg, d, 0, -1), data[:6])
	_, err := h.s.ReadUpload(h.ctx, reg, "u1", 0)
	wantKind(t, "ReadUpload after commit", err, berth.KindNotFound)
}

func testConcurrentCommit(t *testing.T, h *harness) {
	const writers = 8
	reg := h.registry()
	data := content(256<<10, 1)
	d := digest.FromBytes(data)

	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			id := fmt.Sprintf("u%d", i)
			if _, err := h.s.WriteUpload(h.ctx, reg, id, 0, bytes.NewReader(data)); err != nil {
				errs[i] = err
				return
			}
			errs[i] = h.s.CommitUpload(h.ctx, reg, id, int64(len(data)), d)
		})
	}
	wg.Wait()
	wantWritersDone(t, h, reg, d, data, errs)
	for i := range writers {
		_, err := h.s.ReadUpload(h.ctx, reg, fmt.Sprintf("u%d", i), 0)
		wantKind(t, fmt.Sprintf("ReadUpload of u%d after commit", i), err, berth.KindNotFound)
	}
}

func testDelete(t *testing.T, h *harness) {
	reg := h.registry()
	data := []byte("short-lived")
	d := h.put(reg, "u1", data)

	if err := h.s.Delete(h.ctx, reg, d); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := h.s.Stat(h.ctx, reg, d)
	wantKind(t, "Stat after Delete", err, berth.KindNotFound)
	_, err = h.s.Get(h.ctx, reg, d, 0, -1)
	wantKind(t, "Get after Delete", err, berth.KindNotFound)
	err = h.s.Delete(h.ctx, reg, d)
	wantKind(t, "second Delete", err, berth.KindNotFound)

	// The blob can be pushed again.
	h.put(reg, "u2", data)
	wantBytes(t, "Get after pushing again", h.get(reg, d, 0, -1), data)
}

func testNotFound(t *testing.T, h *harness) {
	used := h.registry()
	h.put(used, "present", []byte("something else"))
	h.write(used, "open", 0, []byte("an upload in progress"))
	missing := digest.FromString("never stored")

	for _, reg := range []string{used, h.registry()} {
		tests := []struct {
			name    string
			call    func() error
			mention string
		}{
			{"Stat", func() error { _, err := h.s.Stat(h.ctx, reg, missing); return err }, missing.String()},
			{"Get", func() error { _, err := h.s.Get(h.ctx, reg, missing, 0, -1); return err }, missing.String()},
			{"Get range", func() error { _, err := h.s.Get(h.ctx, reg, missing, 1, 2); return err }, missing.String()},
			{"Delete", func() error { return h.s.Delete(h.ctx, reg, missing) }, missing.String()},
			{"ReadUpload", func() error { _, err := h.s.ReadUpload(h.ctx, reg, "nosuchupload", 0); return err }, "nosuchupload"},
			{"CommitUpload", func() error { return h.s.CommitUpload(h.ctx, reg, "nosuchupload", 0, missing) }, "nosuchupload"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.call()
				wantKind(t, tc.name+" in registry "+reg, err, berth.KindNotFound)
				wantMentions(t, tc.name, err, tc.mention)
			})
		}
	}
}

func testIsolation(t *testing.T, h *harness) {
	a, b := h.registry(), h.registry()
	data := []byte("belongs to registry a")
	d := h.put(a, "u1", data)

	_, err := h.s.Stat(h.ctx, b, d)
	wantKind(t, "Stat in the other registry", err, berth.KindNotFound)
	_, err = h.s.Get(h.ctx, b, d, 0, -1)
	wantKind(t, "Get in the other registry", err, berth.KindNotFound)
	err = h.s.Delete(h.ctx, b, d)
	wantKind(t, "Delete in the other registry", err, berth.KindNotFound)
	wantBytes(t, "Get in the owning registry", h.get(a, d, 0, -1), data)

	// The same upload id in two registries names two uploads.
	h.write(a, "same", 0, []byte("upload in a"))
	h.write(b, "same", 0, []byte("upload in b, longer"))
	wantBytes(t, "upload in a", h.readUpload(a, "same", 11), []byte("upload in a"))
	wantBytes(t, "upload in b", h.readUpload(b, "same", 19), []byte("upload in b, longer"))

	if err := h.s.AbortUpload(h.ctx, b, "same"); err != nil {
		t.Fatalf("AbortUpload in b: %v", err)
	}
	wantBytes(t, "upload in a after abort in b", h.readUpload(a, "same", 11), []byte("upload in a"))

	h.write(b, "same", 0, []byte("upload in b"))
	da := digest.FromString("upload in a")
	h.commit(a, "same", 11, da)
	wantBytes(t, "upload in b after commit in a", h.readUpload(b, "same", 11), []byte("upload in b"))
	_, err = h.s.Stat(h.ctx, b, da)
	wantKind(t, "Stat in b of the blob committed in a", err, berth.KindNotFound)

	// Committing in b a digest that exists only in a must use b's bytes.
	err = h.s.CommitUpload(h.ctx, b, "same", 11, da)
	if err != nil {
		t.Fatalf("CommitUpload in b: %v", err)
	}
	wantBytes(t, "blob in b", h.get(b, da, 0, -1), []byte("upload in b"))
	wantBytes(t, "blob in a", h.get(a, da, 0, -1), []byte("upload in a"))
}

// wantWritersDone fails t unless every concurrent writer succeeded (errs)
// and blob d of reg holds data.
func wantWritersDone(t *testing.T, h *harness, reg string, d digest.Digest, data []byte, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if got := h.stat(reg, d); got != int64(len(data)) {
		t.Fatalf("Stat = %d, want %d", got, len(data))
	}
	wantBytes(t, "Get", h.get(reg, d, 0, -1), data)
}
