package oci

import (
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		path string
		want target
	}{
		{"/v2/", target{route: routeBase}},
		{"/v2", target{route: routeBase}},
		{"/v2/_catalog", target{route: routeCatalog}},
		{"/v2/a/manifests/latest", target{routeManifest, "a", "latest"}},
		{"/v2/a/b/c/manifests/sha256:ab", target{routeManifest, "a/b/c", "sha256:ab"}},
		{"/v2/a/blobs/sha256:ab", target{routeBlob, "a", "sha256:ab"}},
		{"/v2/a/blobs/uploads/", target{routeUploads, "a", ""}},
		{"/v2/a/blobs/uploads", target{routeUploads, "a", ""}},
		{"/v2/a/blobs/uploads/xyz", target{routeUpload, "a", "xyz"}},
		{"/v2/blobs/blobs/uploads/", target{routeUploads, "blobs", ""}},
		{"/v2/manifests/manifests/v1", target{routeManifest, "manifests", "v1"}},
		{"/v2/a/tags/list", target{routeTags, "a", ""}},
		{"/v2/tags/list/tags/list", target{routeTags, "tags/list", ""}},
		{"/v2/a/referrers/sha256:ab", target{routeReferrers, "a", "sha256:ab"}},
		{"/v2/a/unknown/x", target{}},
		{"/v2/a", target{}},
		{"/v3/a/manifests/x", target{}},
		{"/v2/manifests/x", target{}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := parsePath(tt.path); got != tt.want {
				t.Errorf("parsePath(%q) = %+v, want %+v", tt.path, got, tt.want)
			}
		})
	}
}

func TestValidTag(t *testing.T) {
	good := []string{"latest", "v1.0", "_x", "A-b_c.d", string(repeat('a', 128))}
	bad := []string{"", ".x", "-x", "a:b", "a/b", string(repeat('a', 129))}
	for _, s := range good {
		if !validTag(s) {
			t.Errorf("validTag(%q) = false", s)
		}
	}
	for _, s := range bad {
		if validTag(s) {
			t.Errorf("validTag(%q) = true", s)
		}
	}
}

func repeat(b byte, n int) []byte {
	s := make([]byte, n)
	for i := range s {
		s[i] = b
	}
	return s
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in         string
		start, end int64
		ok         bool
	}{
		{"0-99", 0, 99, true},
		{"100-100", 100, 100, true},
		{"bytes 0-99/*", 0, 99, true},
		{"bytes=5-9", 5, 9, true},
		{"bytes 0-99/100", 0, 99, true},
		{"9-5", 0, 0, false},
		{"-5", 0, 0, false},
		{"a-b", 0, 0, false},
		{"", 0, 0, false},
		{"5", 0, 0, false},
	}
	for _, tt := range tests {
		s, e, err := parseContentRange(tt.in)
		if (err == nil) != tt.ok || (tt.ok && (s != tt.start || e != tt.end)) {
			t.Errorf("parseContentRange(%q) = %d, %d, %v", tt.in, s, e, err)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		h              string
		size           int64
		off, n         int64
		partial, unsat bool
	}{
		{"", 10, 0, 10, false, false},
		{"bytes=0-4", 10, 0, 5, true, false},
		{"bytes=5-", 10, 5, 5, true, false},
		{"bytes=-3", 10, 7, 3, true, false},
		{"bytes=-30", 10, 0, 10, true, false},
		{"bytes=8-100", 10, 8, 2, true, false},
		{"bytes=9-9", 10, 9, 1, true, false},
		{"bytes=10-", 10, 0, 0, false, true},
		{"bytes=-0", 10, 0, 0, false, true},
		{"bytes=0-1,3-4", 10, 0, 10, false, false},
		{"items=0-1", 10, 0, 10, false, false},
		{"bytes=5-2", 10, 0, 10, false, false},
		{"bytes=0-", 0, 0, 0, false, true},
	}
	for _, tt := range tests {
		off, n, partial, err := parseRange(tt.h, tt.size)
		if (err != nil) != tt.unsat || (!tt.unsat && (off != tt.off || n != tt.n || partial != tt.partial)) {
			t.Errorf("parseRange(%q, %d) = %d, %d, %v, %v", tt.h, tt.size, off, n, partial, err)
		}
	}
}
