package oci

import (
	"berth/internal/berth"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// The fuzz targets check that parsers never panic and that what they accept
// is consistent. Seed corpora live in testdata/fuzz/<Target>.

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/v2/", "/v2/a/b/manifests/latest", "/v2/a/blobs/uploads/", "/v2/x/tags/list", "/v2/a/referrers/sha256:00", "/v2//blobs/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tg := parsePath(p)
		if tg.route == routeInvalid {
			return
		}
		if !strings.HasPrefix(p, "/v2") {
			t.Fatalf("accepted %q outside /v2", p)
		}
		if tg.name != "" && !strings.Contains(p, tg.name) {
			t.Fatalf("name %q not in path %q", tg.name, p)
		}
		if berth.ValidRepository(tg.name) && (strings.Contains(tg.name, "..") || strings.HasPrefix(tg.name, "/")) {
			t.Fatalf("valid name %q with path tricks", tg.name)
		}
	})
}

func FuzzReference(f *testing.F) {
	for _, s := range []string{"latest", "v1.0", "sha256:" + strings.Repeat("a", 64), "sha512:abc", "../x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if validTag(s) && strings.ContainsAny(s, ":/") {
			t.Fatalf("tag %q accepted with separator", s)
		}
		d, ae := parseDigest(s)
		if ae == nil {
			if d.Validate() != nil || strings.ContainsAny(s, "/ ") {
				t.Fatalf("digest %q accepted but invalid", s)
			}
			if a := d.Algorithm(); a != digest.SHA256 && a != digest.SHA512 {
				t.Fatalf("unsupported algorithm %q accepted", a)
			}
		}
	})
}

func FuzzContentRange(f *testing.F) {
	for _, s := range []string{"0-0", "0-99", "bytes 0-1/*", "bytes=1-2", "-1", "9-1", "99999999999999999999-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, end, err := parseContentRange(s)
		if err == nil && (start < 0 || end < start) {
			t.Fatalf("parseContentRange(%q) = %d-%d", s, start, end)
		}
	})
}

func FuzzRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=3-", "bytes=1-0", "bytes=0-1,2-3"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			return
		}
		off, n, partial, err := parseRange(h, size)
		if err != nil {
			return
		}
		if off < 0 || n < 0 || off+n > size || (!partial && (off != 0 || n != size)) {
			t.Fatalf("parseRange(%q, %d) = %d, %d, %v", h, size, off, n, partial)
		}
	})
}

func FuzzManifest(f *testing.F) {
	cfg := `{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + strings.Repeat("a", 64) + `","size":2}`
	f.Add("application/vnd.oci.image.manifest.v1+json", `{"schemaVersion":2,"config":`+cfg+`,"layers":[`+cfg+`]}`)
	f.Add("application/vnd.oci.image.index.v1+json", `{"schemaVersion":2,"manifests":[`+cfg+`]}`)
	f.Add("", `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":`+cfg+`,"layers":[]}`)
	f.Add("", `{"schemaVersion":1,"fsLayers":[]}`)
	f.Add("", `{"schemaVersion":2,"config":`+cfg+`,"subject":`+cfg+`,"artifactType":"x/y"}`)
	f.Fuzz(func(t *testing.T, ct, payload string) {
		m, err := parseManifest(ct, []byte(payload))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not an API error", err)
			}
			return
		}
		if !manifestTypes[m.MediaType] {
			t.Fatalf("accepted media type %q", m.MediaType)
		}
		for _, r := range m.References {
			if r.Digest.Validate() != nil {
				t.Fatalf("accepted invalid reference %q", r.Digest)
			}
		}
	})
}

// FuzzParseDigest checks that the fast path of parseDigest accepts only
// digests that the full validation accepts too.
func FuzzParseDigest(f *testing.F) {
	for _, s := range []string{
		"sha256:" + strings.Repeat("a", 64),
		"sha512:" + strings.Repeat("0", 128),
		"sha256:" + strings.Repeat("A", 64),
		"sha256:" + strings.Repeat("a", 63),
		"sha384:" + strings.Repeat("a", 96),
		"sha256:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !canonicalDigest(s) {
			return
		}
		d := digest.Digest(s)
		if err := d.Validate(); err != nil {
			t.Fatalf("fast path accepted %q, which Validate refuses: %v", s, err)
		}
		if a := d.Algorithm(); a != digest.SHA256 && a != digest.SHA512 {
			t.Fatalf("fast path accepted algorithm %q", a)
		}
	})
}
