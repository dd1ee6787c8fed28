package oci_test

import (
	"bytes"
	"crypto/sha512"
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// Tests derived from the "Push" section of the OCI distribution spec v1.1.

func TestPushChunked(t *testing.T) {
	e := newEnv(t)
	content := []byte("hello chunked world")
	d := digest.FromBytes(content)
	r := e.do("POST", "/v2/a/blobs/uploads/", nil)
	e.expect(r, 202, "")
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, "/v2/a/blobs/uploads/") || r.header.Get("Range") != "0-0" || r.header.Get("Docker-Upload-UUID") == "" {
		t.Fatalf("POST headers: %v", r.header)
	}
	r = e.do("PATCH", loc, content[:5], "Content-Range", "0-4", "Content-Type", "application/octet-stream")
	e.expect(r, 202, "")
	if r.header.Get("Range") != "0-4" || r.header.Get("Location") != loc {
		t.Fatalf("PATCH headers: %v", r.header)
	}
	// Out of order chunk: 416 with the current range.
	r = e.do("PATCH", loc, content[10:], "Content-Range", fmt.Sprintf("10-%d", len(content)-1))
	e.expect(r, 416, "BLOB_UPLOAD_INVALID")
	if r.header.Get("Range") != "0-4" || !strings.Contains(string(r.body), "resume at 5") {
		t.Fatalf("416: %v %s", r.header, r.body)
	}
	// Malformed Content-Range: 416 as well.
	e.expect(e.do("PATCH", loc, content[5:10], "Content-Range", "five-nine"), 416, "BLOB_UPLOAD_INVALID")
	// Content-Length that disagrees with Content-Range.
	e.expect(e.do("PATCH", loc, content[5:10], "Content-Range", "5-20"), 416, "BLOB_UPLOAD_INVALID")
	r = e.do("PATCH", loc, content[5:10], "Content-Range", "5-9")
	e.expect(r, 202, "")
	r = e.do("GET", loc, nil)
	e.expect(r, 204, "")
	if r.header.Get("Range") != "0-9" || r.header.Get("Location") != loc {
		t.Fatalf("status headers: %v", r.header)
	}
	// The final PUT carries the last chunk.
	r = e.do("PUT", loc+"?digest="+d.String(), content[10:], "Content-Range", fmt.Sprintf("10-%d", len(content)-1))
	e.expect(r, 201, "")
	if r.header.Get("Location") != "/v2/a/blobs/"+d.String() || r.header.Get("Docker-Content-Digest") != d.String() {
		t.Fatalf("PUT headers: %v", r.header)
	}
	r = e.do("GET", "/v2/a/blobs/"+d.String(), nil)
	if !bytes.Equal(r.body, content) {
		t.Fatalf("blob = %q", r.body)
	}
	// The session is gone after completion.
	e.expect(e.do("GET", loc, nil), 404, "BLOB_UPLOAD_UNKNOWN")
}

func TestPushStreamedWithoutContentRange(t *testing.T) {
	e := newEnv(t)
	content := bytes.Repeat([]byte("abc"), 100000)
	d := digest.FromBytes(content)
	loc := e.do("POST", "/v2/a/blobs/uploads/", nil).header.Get("Location")
	e.expect(e.do("PATCH", loc, content[:1000]), 202, "")
	e.expect(e.do("PATCH", loc, content[1000:]), 202, "")
	e.expect(e.do("PUT", loc+"?digest="+d.String(), nil), 201, "")
	e.expect(e.do("HEAD", "/v2/a/blobs/"+d.String(), nil), 200, "")
}

func TestPushMonolithic(t *testing.T) {
	e := newEnv(t)
	content := []byte("monolith")
	d := digest.FromBytes(content)
	loc := e.do("POST", "/v2/a/blobs/uploads/", nil).header.Get("Location")
	e.expect(e.do("PUT", loc+"?digest="+d.String(), content, "Content-Type", "application/octet-stream"), 201, "")
	e.expect(e.do("GET", "/v2/a/blobs/"+d.String(), nil), 200, "")
	// Single POST with the digest.
	c2 := []byte("single post")
	r := e.do("POST", "/v2/a/blobs/uploads/?digest="+digest.FromBytes(c2).String(), c2)
	e.expect(r, 201, "")
	if r.header.Get("Location") != "/v2/a/blobs/"+digest.FromBytes(c2).String() {
		t.Fatalf("Location %q", r.header.Get("Location"))
	}
	// Single POST with a wrong digest stores nothing.
	r = e.do("POST", "/v2/a/blobs/uploads/?digest="+sha([]byte("other")), c2)
	e.expect(r, 400, "DIGEST_INVALID")
	e.expect(e.do("HEAD", "/v2/a/blobs/"+sha([]byte("other")), nil), 404, "")
}

// TestPushWholeBodyOnPut completes a fresh session with one PUT that
// carries the whole blob (POST, then PUT ?digest= with the body).
func TestPushWholeBodyOnPut(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		alg  digest.Algorithm
	}{
		{"sha256", digest.SHA256},
		{"sha512", digest.SHA512},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.on(t)
			content := []byte("a whole blob in the PUT, " + tt.name)
			d := tt.alg.FromBytes(content)
			wrong := tt.alg.FromBytes([]byte("other content"))
			r := e.do("POST", "/v2/a/blobs/uploads/", nil)
			e.expect(r, 202, "")
			loc := r.header.Get("Location")

			// A wrong digest stores nothing and leaves the session open.
			e.expect(e.do("PUT", loc+"?digest="+wrong.String(), content), 400, "DIGEST_INVALID")
			e.expect(e.do("HEAD", "/v2/a/blobs/"+wrong.String(), nil), 404, "")
			e.expect(e.do("HEAD", "/v2/a/blobs/"+d.String(), nil), 404, "")
			r = e.do("GET", loc, nil)
			e.expect(r, 204, "")
			if r.header.Get("Range") != "0-0" {
				t.Fatalf("session after a refused PUT: Range %q, want 0-0", r.header.Get("Range"))
			}

			r = e.do("PUT", loc+"?digest="+d.String(), content, "Content-Type", "application/octet-stream")
			e.expect(r, 201, "")
			if r.header.Get("Location") != "/v2/a/blobs/"+d.String() || r.header.Get("Docker-Content-Digest") != d.String() {
				t.Fatalf("PUT headers: %v", r.header)
			}
			r = e.do("GET", "/v2/a/blobs/"+d.String(), nil)
			e.expect(r, 200, "")
			if !bytes.Equal(r.body, content) || r.header.Get("Docker-Content-Digest") != d.String() {
				t.Fatalf("blob = %q, Docker-Content-Digest %q", r.body, r.header.Get("Docker-Content-Digest"))
			}
		})
	}
}

func TestPushSHA512(t *testing.T) {
	e := newEnv(t)
	content := []byte("sha512 content")
	d := digest.NewDigestFromBytes(digest.SHA512, func() []byte { s := sha512.Sum512(content); return s[:] }())
	loc := e.do("POST", "/v2/a/blobs/uploads/", nil).header.Get("Location")
	e.expect(e.do("PATCH", loc, content[:4], "Content-Range", "0-3"), 202, "")
	e.expect(e.do("PUT", loc+"?digest="+d.String(), content[4:]), 201, "")
	r := e.do("GET", "/v2/a/blobs/"+d.String(), nil)
	e.expect(r, 200, "")
	if !bytes.Equal(r.body, content) {
		t.Fatalf("body %q", r.body)
	}
	e.expect(e.do("POST", "/v2/a/blobs/uploads/?digest="+d.String(), content), 201, "")
	// A sha512 manifest reference.
	cfg := e.pushBlob("a", []byte("{}"))
	m := manifestJSON(cfg, 2, d, int64(len(content)), "")
	md := digest.SHA512.FromBytes(m)
	e.expect(e.do("PUT", "/v2/a/manifests/"+md.String(), m, "Content-Type", ociManifest), 201, "")
	e.expect(e.do("GET", "/v2/a/manifests/"+md.String(), nil), 200, "")
}

func TestUploadErrors(t *testing.T) {
	e := newEnv(t)
	loc := e.do("POST", "/v2/a/blobs/uploads/", nil).header.Get("Location")
	id := loc[strings.LastIndex(loc, "/")+1:]
	e.expect(e.do("PATCH", loc, []byte("abc")), 202, "")
	tests := []struct {
		name, method, path string
		body               []byte
		status             int
		code               string
	}{
		{"PUT without digest", "PUT", loc, nil, 400, "DIGEST_INVALID"},
		{"PUT with malformed digest", "PUT", loc + "?digest=sha256:xyz", nil, 400, "DIGEST_INVALID"},
		{"unknown session", "GET", "/v2/a/blobs/uploads/0000", nil, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"session id with path tricks", "PATCH", "/v2/a/blobs/uploads/..%2f..%2fx", []byte("x"), 404, "NAME_INVALID"},
		{"session id with odd characters", "PATCH", "/v2/a/blobs/uploads/a.b", []byte("x"), 404, "BLOB_UPLOAD_UNKNOWN"},
		{"session of another repository", "GET", "/v2/b/blobs/uploads/" + id, nil, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"session of another registry", "GET", loc, nil, 404, "BLOB_UPLOAD_UNKNOWN"},
		{"wrong digest", "PUT", loc + "?digest=" + sha([]byte("xyz")), nil, 400, "DIGEST_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.on(t)
			hdr := []string{}
			if tt.name == "session of another registry" {
				hdr = []string{"Host", "other.example.com"}
			}
			e.expect(e.do(tt.method, tt.path, tt.body, hdr...), tt.status, tt.code)
		})
	}
	// Cancel: 204, then the session is unknown.
	loc2 := e.do("POST", "/v2/a/blobs/uploads/", nil).header.Get("Location")
	e.expect(e.do("DELETE", loc2, nil), 204, "")
	e.expect(e.do("GET", loc2, nil), 404, "BLOB_UPLOAD_UNKNOWN")
	e.expect(e.do("DELETE", loc2, nil), 404, "BLOB_UPLOAD_UNKNOWN")
	e.expect(e.do("POST", "/v2/A/blobs/uploads/", nil), 400, "NAME_INVALID")
}

func TestCrossRepositoryMount(t *testing.T) {
	e := newEnv(t)
	d := e.pushBlob("src", []byte("shared layer"))
	r := e.do("POST", "/v2/dst/blobs/uploads/?mount="+d.String()+"&from=src", nil)
	e.expect(r, 201, "")
	if r.header.Get("Location") != "/v2/dst/blobs/"+d.String() || r.header.Get("Docker-Content-Digest") != d.String() {
		t.Fatalf("mount headers: %v", r.header)
	}
	e.expect(e.do("GET", "/v2/dst/blobs/"+d.String(), nil), 200, "")
	// From a repository that does not hold it: an upload session instead.
	r = e.do("POST", "/v2/dst2/blobs/uploads/?mount="+d.String()+"&from=empty", nil)
	e.expect(r, 202, "")
	if !strings.HasPrefix(r.header.Get("Location"), "/v2/dst2/blobs/uploads/") {
		t.Fatalf("fallback Location %q", r.header.Get("Location"))
	}
	// Without from, any repository of the registry is a source.
	e.expect(e.do("POST", "/v2/dst3/blobs/uploads/?mount="+d.String(), nil), 201, "")
	// An invalid digest or source name falls back to an upload.
	e.expect(e.do("POST", "/v2/dst4/blobs/uploads/?mount=sha256:bad&from=src", nil), 202, "")
	e.expect(e.do("POST", "/v2/dst4/blobs/uploads/?mount="+d.String()+"&from=../src", nil), 202, "")
	e.expect(e.do("GET", "/v2/dst4/blobs/"+d.String(), nil), 404, "BLOB_UNKNOWN")
}

func TestPushManifestErrors(t *testing.T) {
	e := newEnv(t)
	m, md := e.image("a", "1")
	missing := sha([]byte("missing"))
	cfg := e.pushBlob("a", []byte("{}"))
	big := []byte(`{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"` + cfg.String() + `","size":2},"annotations":{"x":"` +
		strings.Repeat("a", 4<<20) + `"}}`)
	tests := []struct {
		name, ref, ct string
		body          []byte
		status        int
		code          string
	}{
		{"missing layer", "v1", ociManifest, manifestJSON(cfg, 2, digest.Digest(missing), 1, ""), 400, "MANIFEST_BLOB_UNKNOWN"},
		{"missing config", "v1", ociManifest, manifestJSON(digest.Digest(missing), 2, cfg, 2, ""), 400, "MANIFEST_BLOB_UNKNOWN"},
		{"not JSON", "v1", ociManifest, []byte("{nope"), 400, "MANIFEST_INVALID"},
		{"schemaVersion 1 field", "v1", ociManifest, []byte(`{"schemaVersion":1,"config":{}}`), 400, "MANIFEST_INVALID"},
		{"no config", "v1", ociManifest, []byte(`{"schemaVersion":2,"layers":[]}`), 400, "MANIFEST_INVALID"},
		{"bad descriptor digest", "v1", ociManifest, []byte(`{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:1","size":1}}`), 400, "MANIFEST_INVALID"},
		{"content type mismatch", "v1", "application/vnd.oci.image.index.v1+json", m, 400, "MANIFEST_INVALID"},
		{"unsupported media type", "v1", "text/plain", []byte(`{"schemaVersion":2,"config":{}}`), 415, "MANIFEST_INVALID"},
		{"schema 1", "v1", "", []byte(`{"schemaVersion":1,"fsLayers":[],"signatures":[]}`), 415, "MANIFEST_INVALID"},
		{"too large", "v1", ociManifest, big, 413, "SIZE_INVALID"},
		{"digest mismatch", sha([]byte("other")), ociManifest, m, 400, "DIGEST_INVALID"},
		{"invalid tag", "-x", ociManifest, m, 400, "TAG_INVALID"},
		{"index with missing child", "v1", "application/vnd.oci.image.index.v1+json",
			[]byte(`{"schemaVersion":2,"manifests":[{"mediaType":"` + ociManifest + `","digest":"` + missing + `","size":10}]}`), 400, "MANIFEST_BLOB_UNKNOWN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.on(t)
			r := e.do("PUT", "/v2/a/manifests/"+tt.ref, tt.body, "Content-Type", tt.ct)
			e.expect(r, tt.status, tt.code)
			if tt.code == "MANIFEST_BLOB_UNKNOWN" && !strings.Contains(string(r.body), missing) {
				t.Errorf("error does not name the missing digest: %s", r.body)
			}
		})
	}
	// Nothing of the refused pushes is visible.
	e.expect(e.do("GET", "/v2/a/manifests/v1", nil), 404, "MANIFEST_UNKNOWN")
	e.expect(e.do("PUT", "/v2/a/manifests/"+md.String(), m, "Content-Type", ociManifest), 201, "")
}

// TestSessionWithoutRecord covers sessions that hold no bytes yet, which
// have no record: POST hands out an id that only its repository accepts,
// the status of such a session is offset 0, a made-up or altered id is
// unknown, and the first chunk records the session.
func TestSessionWithoutRecord(t *testing.T) {
	e := newEnv(t)
	loc := e.do("POST", "/v2/a/blobs/uploads/", nil).header.Get("Location")
	id := loc[strings.LastIndex(loc, "/")+1:]
	r := e.do("GET", loc, nil)
	e.expect(r, 204, "")
	if r.header.Get("Range") != "0-0" || r.header.Get("Docker-Upload-UUID") != id {
		t.Fatalf("status headers: %v", r.header)
	}
	altered := []byte(id)
	altered[0] ^= 1
	e.expect(e.do("GET", "/v2/a/blobs/uploads/"+string(altered), nil), 404, "BLOB_UPLOAD_UNKNOWN")
	e.expect(e.do("GET", "/v2/b/blobs/uploads/"+id, nil), 404, "BLOB_UPLOAD_UNKNOWN")
	e.expect(e.do("GET", "/v2/a/blobs/uploads/"+strings.Repeat("0", len(id)), nil), 404, "BLOB_UPLOAD_UNKNOWN")

	content := []byte("recorded with its first chunk")
	e.expect(e.do("PATCH", loc, content[:8], "Content-Range", "0-7"), 202, "")
	r = e.do("GET", loc, nil)
	e.expect(r, 204, "")
	if r.header.Get("Range") != "0-7" {
		t.Fatalf("Range after first chunk = %q", r.header.Get("Range"))
	}
	// A second writer that still believes the session empty loses.
	e.expect(e.do("PATCH", loc, content[:8], "Content-Range", "0-7"), 416, "BLOB_UPLOAD_INVALID")
	d := sha(content)
	e.expect(e.do("PUT", loc+"?digest="+d, content[8:]), 201, "")
	e.expect(e.do("PATCH", loc, content[:8], "Content-Range", "0-7"), 404, "BLOB_UPLOAD_UNKNOWN")
}
