package oci_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// Tests derived from the "Pull" and general sections of the OCI
// distribution spec v1.1, one endpoint (end-N) at a time.

func TestBase(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v2/", nil)
	e.expect(r, 200, "")
	if r.header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
		t.Errorf("missing Docker-Distribution-API-Version: %v", r.header)
	}
	e.expect(e.do("GET", "/v2", nil), 200, "")
}

func TestUnknownHostGetsOCIError(t *testing.T) {
	e := newEnv(t)
	m, _ := e.image("a", "1")
	e.expect(e.do("PUT", "/v2/a/manifests/v1", m, "Content-Type", ociManifest), 201, "")
	for _, host := range []string{"nosuch.example.com", "example.com", "a.b.example.com", "evil.com", "default.example.com.evil.com"} {
		t.Run(host, func(t *testing.T) {
			e := e.on(t)
			r := e.do("GET", "/v2/a/manifests/v1", nil, "Host", host)
			e.expect(r, 404, "NAME_UNKNOWN")
			if !strings.Contains(string(r.body), host) {
				t.Errorf("error does not name the host: %s", r.body)
			}
		})
	}
	// The registry's own login server name reaches it.
	e.expect(e.do("GET", "/v2/a/manifests/v1", nil, "Host", "default.example.com:443"), 200, "")
}

func TestRegistriesAreIsolated(t *testing.T) {
	e := newEnv(t)
	m, md := e.image("a", "1")
	e.expect(e.do("PUT", "/v2/a/manifests/v1", m, "Content-Type", ociManifest), 201, "")
	other := "other.example.com"
	e.expect(e.do("GET", "/v2/a/manifests/v1", nil, "Host", other), 404, "MANIFEST_UNKNOWN")
	e.expect(e.do("GET", "/v2/a/manifests/"+md.String(), nil, "Host", other), 404, "MANIFEST_UNKNOWN")
	layer := sha([]byte("layer-1"))
	e.expect(e.do("GET", "/v2/a/blobs/"+layer, nil, "Host", other), 404, "BLOB_UNKNOWN")
	// Mounting another registry's blob falls back to an upload session.
	r := e.do("POST", "/v2/a/blobs/uploads/?mount="+layer, nil, "Host", other)
	e.expect(r, 202, "")
	r = e.do("GET", "/v2/_catalog", nil, "Host", other)
	if strings.Contains(string(r.body), `"a"`) {
		t.Errorf("catalog of other registry lists default's repository: %s", r.body)
	}
}

func TestPullManifest(t *testing.T) {
	e := newEnv(t)
	m, md := e.image("lib/app", "1")
	put := e.do("PUT", "/v2/lib/app/manifests/v1", m, "Content-Type", ociManifest)
	e.expect(put, 201, "")
	if put.header.Get("Docker-Content-Digest") != md.String() || put.header.Get("Location") != "/v2/lib/app/manifests/"+md.String() {
		t.Fatalf("PUT headers: %v", put.header)
	}
	for _, ref := range []string{"v1", md.String()} {
		for _, method := range []string{"GET", "HEAD"} {
			t.Run(method+" "+ref, func(t *testing.T) {
				e := e.on(t)
				r := e.do(method, "/v2/lib/app/manifests/"+ref, nil)
				e.expect(r, 200, "")
				if r.header.Get("Content-Type") != ociManifest || r.header.Get("Docker-Content-Digest") != md.String() ||
					r.header.Get("Content-Length") != strconv.Itoa(len(m)) {
					t.Errorf("headers: %v", r.header)
				}
				if method == "GET" && !bytes.Equal(r.body, m) {
					t.Errorf("body differs from what was pushed")
				}
				if method == "HEAD" && len(r.body) != 0 {
					t.Errorf("HEAD has a body")
				}
			})
		}
	}
	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"unknown tag", "/v2/lib/app/manifests/nope", 404, "MANIFEST_UNKNOWN"},
		{"unknown digest", "/v2/lib/app/manifests/" + sha([]byte("x")), 404, "MANIFEST_UNKNOWN"},
		{"unknown repository", "/v2/lib/none/manifests/v1", 404, "MANIFEST_UNKNOWN"},
		{"invalid tag", "/v2/lib/app/manifests/-bad", 400, "TAG_INVALID"},
		{"invalid digest", "/v2/lib/app/manifests/sha256:zz", 400, "DIGEST_INVALID"},
		{"unsupported algorithm", "/v2/lib/app/manifests/md5:d41d8cd98f00b204e9800998ecf8427e", 400, "DIGEST_INVALID"},
		{"invalid name", "/v2/Lib/App/manifests/v1", 400, "NAME_INVALID"},
		{"name with dots", "/v2/lib/../app/manifests/v1", 400, "NAME_INVALID"},
		{"no such endpoint", "/v2/lib/app/nothing/v1", 404, "NAME_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.on(t)
			e.expect(e.do("GET", tt.path, nil), tt.status, tt.code)
		})
	}
	// The manifest of one repository is not visible in another.
	e.expect(e.do("GET", "/v2/lib/other/manifests/"+md.String(), nil), 404, "MANIFEST_UNKNOWN")
}

func TestPullBlob(t *testing.T) {
	e := newEnv(t)
	content := []byte("0123456789")
	d := e.pushBlob("a", content)
	r := e.do("GET", "/v2/a/blobs/"+d.String(), nil)
	e.expect(r, 200, "")
	if !bytes.Equal(r.body, content) || r.header.Get("Docker-Content-Digest") != d.String() || r.header.Get("Content-Length") != "10" {
		t.Fatalf("GET blob: %q %v", r.body, r.header)
	}
	r = e.do("HEAD", "/v2/a/blobs/"+d.String(), nil)
	e.expect(r, 200, "")
	if r.header.Get("Content-Length") != "10" || len(r.body) != 0 {
		t.Fatalf("HEAD blob: %v", r.header)
	}
	ranges := []struct {
		h            string
		status       int
		body, crange string
	}{
		{"bytes=0-3", 206, "0123", "bytes 0-3/10"},
		{"bytes=7-", 206, "789", "bytes 7-9/10"},
		{"bytes=-2", 206, "89", "bytes 8-9/10"},
		{"bytes=5-100", 206, "56789", "bytes 5-9/10"},
		{"bytes=10-", 416, "", "bytes */10"},
		{"bytes=0-1,4-5", 200, "0123456789", ""},
	}
	for _, tt := range ranges {
		t.Run(tt.h, func(t *testing.T) {
			e := e.on(t)
			r := e.do("GET", "/v2/a/blobs/"+d.String(), nil, "Range", tt.h)
			if r.status != tt.status || r.header.Get("Content-Range") != tt.crange {
				t.Fatalf("got %d %q (%s)", r.status, r.header.Get("Content-Range"), r.body)
			}
			if tt.status != 416 && string(r.body) != tt.body {
				t.Fatalf("body %q, want %q", r.body, tt.body)
			}
		})
	}
	e.expect(e.do("GET", "/v2/a/blobs/"+sha([]byte("nope")), nil), 404, "BLOB_UNKNOWN")
	e.expect(e.do("HEAD", "/v2/a/blobs/"+sha([]byte("nope")), nil), 404, "")
	e.expect(e.do("GET", "/v2/b/blobs/"+d.String(), nil), 404, "BLOB_UNKNOWN")
	e.expect(e.do("GET", "/v2/a/blobs/sha256:123", nil), 400, "DIGEST_INVALID")
	e.expect(e.do("GET", "/v2/a/blobs/"+d.String(), nil, "If-None-Match", `"`+d.String()+`"`), 304, "")
}
