package blobstoretest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// Registry names are 1 to 50 lowercase letters and digits; upload ids are 1
// to 128 letters, digits, '_' and '-'; digests are what Digest.Validate
// accepts. Anything else is KindInvalid and touches no storage.
var (
	invalidRegistries = []string{"", ".", "..", "../x", "a/b", "a\\b", "Upper", "a-b", "a.b", "a b", "a\x00b", strings.Repeat("a", 51)}
	invalidUploadIDs  = []string{"", ".", "..", "../x", "a/b", "a\\b", "a.b", "a b", "a\x00b", strings.Repeat("a", 129)}
	invalidDigests    = []digest.Digest{
		"",
		"../x",
		"sha256",
		"sha256:",
		"sha256:../../x",
		"sha256:abc",
		digest.Digest("sha256:" + strings.ToUpper(digest.FromString("x").Encoded())),
		digest.Digest("sha256:" + digest.FromString("x").Encoded()[:62] + "/a"),
		"md5:d41d8cd98f00b204e9800998ecf8427e",
		"sha512:" + digest.Digest(digest.FromString("x").Encoded()),
	}
)

// call is one store operation to check for KindInvalid.
type call struct {
	name string
	fn   func() error
}

func checkInvalid(t *testing.T, calls []call) {
	t.Helper()
	for _, c := range calls {
		wantKind(t, c.name, c.fn(), berth.KindInvalid)
	}
}

func testInvalidRegistry(t *testing.T, h *harness) {
	d := digest.FromString("content")
	for _, reg := range invalidRegistries {
		t.Run(fmt.Sprintf("%q", reg), func(t *testing.T) {
			checkInvalid(t, []call{
				{"Stat", func() error { _, err := h.s.Stat(h.ctx, reg, d); return err }},
				{"Get", func() error { _, err := h.s.Get(h.ctx, reg, d, 0, -1); return err }},
				{"Delete", func() error { return h.s.Delete(h.ctx, reg, d) }},
				{"WriteUpload", func() error {
					_, err := h.s.WriteUpload(h.ctx, reg, "u1", 0, strings.NewReader("content"))
					return err
				}},
				{"ReadUpload", func() error { _, err := h.s.ReadUpload(h.ctx, reg, "u1", 0); return err }},
				{"CommitUpload", func() error { return h.s.CommitUpload(h.ctx, reg, "u1", 7, d) }},
				{"AbortUpload", func() error { return h.s.AbortUpload(h.ctx, reg, "u1") }},
			})
		})
	}

	// A refused name in another case must not reach the lowercase registry.
	lower := h.registry()
	upper := strings.ToUpper(lower)
	_, err := h.s.WriteUpload(h.ctx, upper, "u1", 0, strings.NewReader("content"))
	wantKind(t, "WriteUpload to "+upper, err, berth.KindInvalid)
	_, err = h.s.ReadUpload(h.ctx, lower, "u1", 0)
	wantKind(t, "ReadUpload from "+lower+" after a write to "+upper, err, berth.KindNotFound)
}

func testInvalidUploadID(t *testing.T, h *harness) {
	reg := h.registry()
	d := digest.FromString("content")
	for _, id := range invalidUploadIDs {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			checkInvalid(t, []call{
				{"WriteUpload", func() error {
					_, err := h.s.WriteUpload(h.ctx, reg, id, 0, strings.NewReader("content"))
					return err
				}},
				{"ReadUpload", func() error { _, err := h.s.ReadUpload(h.ctx, reg, id, 0); return err }},
				{"CommitUpload", func() error { return h.s.CommitUpload(h.ctx, reg, id, 7, d) }},
				{"AbortUpload", func() error { return h.s.AbortUpload(h.ctx, reg, id) }},
			})
		})
	}
	// The longest valid id and every allowed character are accepted.
	for _, id := range []string{strings.Repeat("a", 128), "AZaz09_-"} {
		h.write(reg, id, 0, []byte("ok"))
		wantBytes(t, "upload "+id, h.readUpload(reg, id, 2), []byte("ok"))
	}
	// "x" in the registry is untouched by the refused "../x" and "a/b".
	_, err := h.s.ReadUpload(h.ctx, reg, "x", 0)
	wantKind(t, "ReadUpload of x", err, berth.KindNotFound)
	_, err = h.s.ReadUpload(h.ctx, reg, "b", 0)
	wantKind(t, "ReadUpload of b", err, berth.KindNotFound)
}

func testInvalidDigest(t *testing.T, h *harness) {
	reg := h.registry()
	data := []byte("content")
	h.write(reg, "u1", 0, data)
	for _, d := range invalidDigests {
		t.Run(fmt.Sprintf("%q", d), func(t *testing.T) {
			checkInvalid(t, []call{
				{"Stat", func() error { _, err := h.s.Stat(h.ctx, reg, d); return err }},
				{"Get", func() error { _, err := h.s.Get(h.ctx, reg, d, 0, -1); return err }},
				{"Get range", func() error { _, err := h.s.Get(h.ctx, reg, d, 0, 1); return err }},
				{"Delete", func() error { return h.s.Delete(h.ctx, reg, d) }},
				{"CommitUpload", func() error { return h.s.CommitUpload(h.ctx, reg, "u1", 7, d) }},
			})
		})
	}
	// A refused commit leaves the upload as it was.
	wantBytes(t, "upload after refused commits", h.readUpload(reg, "u1", 7), data)
}

func testInvalidArguments(t *testing.T, h *harness) {
	reg := h.registry()
	data := []byte("content")
	d := h.put(reg, "u1", data)
	h.write(reg, "u2", 0, data)
	checkInvalid(t, []call{
		{"Get at a negative offset", func() error { _, err := h.s.Get(h.ctx, reg, d, -1, -1); return err }},
		{"WriteUpload at a negative offset", func() error {
			_, err := h.s.WriteUpload(h.ctx, reg, "u2", -1, strings.NewReader("x"))
			return err
		}},
		{"ReadUpload of a negative size", func() error { _, err := h.s.ReadUpload(h.ctx, reg, "u2", -1); return err }},
		{"CommitUpload of a negative size", func() error { return h.s.CommitUpload(h.ctx, reg, "u2", -1, d) }},
	})
	wantBytes(t, "upload after refused calls", h.readUpload(reg, "u2", 7), data)
}
