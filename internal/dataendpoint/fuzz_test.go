package dataendpoint

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

var update = flag.Bool("update", false, "rewrite the seed corpus in testdata/fuzz")

// The fixed key and time of the fuzz fixture, under which the token seeds
// in testdata/fuzz/FuzzVerify were minted.
var (
	fuzzKid    = KeyPrefix + "fuzz"
	fuzzSecret = []byte("0123456789abcdef0123456789abcdef")
	fuzzTime   = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
)

// fuzzSigner returns a signer whose only key is the fixture's, at its time.
func fuzzSigner(t testing.TB) *Signer {
	t.Helper()
	keys := newMemKeys()
	keys.keys[fuzzKid] = berth.SigningKey{ID: fuzzKid, Private: fuzzSecret, CreatedAt: fuzzTime.Add(-time.Hour)}
	s, err := NewSigner(keys, SignerConfig{}, func() time.Time { return fuzzTime })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// FuzzVerify checks that no token panics Verify, that every refusal is
// KindUnauthorized, and that a token is accepted only when it is, byte for
// byte, what the signer produces for its claims under the fixture's key:
// a MAC computed here independently, over a payload that re-encodes to the
// same bytes, with claims Mint could have issued and that are current.
func FuzzVerify(f *testing.F) {
	s := fuzzSigner(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(ctx, tok)
		if err != nil {
			if k := berth.KindOf(err); k != berth.KindUnauthorized {
				t.Fatalf("Verify(%q) = %v of kind %v, want unauthorized", tok, err, k)
			}
			return
		}
		payload := encodePayload(fuzzKid, c)
		m := hmac.New(sha256.New, fuzzSecret)
		m.Write([]byte("berth data-endpoint token\n"))
		m.Write(payload)
		if want := b64.EncodeToString(payload) + "." + b64.EncodeToString(m.Sum(nil)); tok != want {
			t.Fatalf("Verify accepted %q, which is not the signer's token for its claims %q", tok, want)
		}
		if !validRegistry(c.Registry) || !validLabel(c.Region) || !berth.ValidRepository(c.Repository) || !validDigest(string(c.Digest)) ||
			!validIdentity(c.Identity) || c.Class != ClassRead {
			t.Fatalf("Verify accepted claims Mint would refuse: %+v", c)
		}
		if !fuzzTime.Before(c.Expires) || c.IssuedAt.After(fuzzTime.Add(s.cfg.Skew)) || c.Expires.Sub(c.IssuedAt) > s.cfg.MaxTTL {
			t.Fatalf("Verify accepted claims that are not current: %+v", c)
		}
	})
}

// FuzzParseHost checks that a host parses only when it is, up to case, port
// and a trailing dot, exactly Host(registry, region, domain) with valid
// names, and never when it is an IP literal.
func FuzzParseHost(f *testing.F) {
	f.Fuzz(func(t *testing.T, host string) {
		reg, region, err := parseHost(host, testDomain)
		if err != nil {
			if toRefusal(err).status != 404 || toRefusal(err).code != codeNameUnknown {
				t.Fatalf("parseHost(%q) refusal %+v", host, toRefusal(err))
			}
			return
		}
		if !validRegistry(reg) || !validLabel(region) {
			t.Fatalf("parseHost(%q) = %q, %q", host, reg, region)
		}
		h := strings.ToLower(host)
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			h = h[:i]
		}
		h = strings.TrimSuffix(h, ".")
		if h != Host(reg, region, testDomain) {
			t.Fatalf("parseHost(%q) = %q, %q, which is host %q", host, reg, region, Host(reg, region, testDomain))
		}
		if _, err := netip.ParseAddr(h); err == nil {
			t.Fatalf("parseHost accepted the IP literal %q", host)
		}
	})
}

// FuzzParseBlobPath checks that a path parses only when it is exactly
// "/v2/<repository>/blobs/<digest>" with a valid name and digest, so that
// no escape, dot segment or trailing junk reaches the store.
func FuzzParseBlobPath(f *testing.F) {
	f.Fuzz(func(t *testing.T, p string) {
		repo, d, err := parseBlobPath(p)
		if err != nil {
			if toRefusal(err).status != 404 {
				t.Fatalf("parseBlobPath(%q) refusal %+v", p, toRefusal(err))
			}
			return
		}
		if "/v2/"+repo+"/blobs/"+string(d) != p || !berth.ValidRepository(repo) || !validDigest(string(d)) {
			t.Fatalf("parseBlobPath(%q) = %q, %q", p, repo, d)
		}
		for _, seg := range strings.Split(p[1:], "/") {
			if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "%\\") {
				t.Fatalf("parseBlobPath(%q) accepted segment %q", p, seg)
			}
		}
	})
}

// FuzzParseRange checks that a range never reaches outside the blob.
func FuzzParseRange(f *testing.F) {
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		off, n, partial, err := parseRange(h, size)
		switch {
		case err != nil:
			if partial || n != 0 {
				t.Fatalf("parseRange(%q, %d) = %d, %d, %v, %v", h, size, off, n, partial, err)
			}
		case !partial:
			if off != 0 || n != size {
				t.Fatalf("ignored range %q of %d serves %d+%d", h, size, off, n)
			}
		case off < 0 || n <= 0 || off+n > size || off+n < off:
			t.Fatalf("parseRange(%q, %d) = %d+%d, outside the blob", h, size, off, n)
		}
	})
}

// seeds returns the seed corpus of each fuzz target by file name.
func seeds(t testing.TB) map[string]map[string][]any {
	s := fuzzSigner(t)
	mint := func(f func(*Claims)) string {
		c := testClaims()
		if f != nil {
			f(&c)
		}
		return mustMint(t, s, c)
	}
	valid := mint(nil)
	raw := mustDecode(t, valid)
	dot := strings.IndexByte(valid, '.')
	v2 := encodePayload(fuzzKid, raw.claims)
	v2[0] = 2
	expired := raw.claims
	expired.IssuedAt, expired.Expires = fuzzTime.Add(-time.Hour), fuzzTime.Add(-50*time.Minute)
	future := raw.claims
	future.IssuedAt, future.Expires = fuzzTime.Add(time.Hour), fuzzTime.Add(70*time.Minute)
	str := func(v string) []any { return []any{v} }
	return map[string]map[string][]any{
		"FuzzVerify": {
			"valid":             str(valid),
			"valid-bound-ipv4":  str(mint(func(c *Claims) { c.ClientAddr = netip.MustParseAddr("192.0.2.7") })),
			"valid-bound-ipv6":  str(mint(func(c *Claims) { c.ClientAddr = netip.MustParseAddr("2001:db8::7") })),
			"valid-sha512":      str(mint(func(c *Claims) { c.Digest = digest.Digest("sha512:" + strings.Repeat("ab", 64)) })),
			"tampered-registry": str(tamper(t, valid, func(_ *string, c *Claims) { c.Registry = "fabrikam" })),
			"tampered-mac":      str(valid[:dot+1] + "A" + valid[dot+2:]),
			"truncated":         str(valid[:len(valid)-10]),
			"expired":           str(forge(fuzzKid, fuzzSecret, expired)),
			"not-yet-valid":     str(forge(fuzzKid, fuzzSecret, future)),
			"wrong-version":     str(encodeToken(v2, mac(fuzzSecret, v2))),
			"unknown-key":       str(forge(KeyPrefix+"other", fuzzSecret, raw.claims)),
			"garbage":           str("eyJhbGciOiJub25lIn0.e30."),
			"empty":             str(""),
			"padded":            str(valid + "="),
		},
		"FuzzParseHost": {
			"valid":       str("contoso.eastus.data.example.com"),
			"port":        str("contoso.eastus.data.example.com:443"),
			"upper-dot":   str("CONTOSO.EASTUS.DATA.EXAMPLE.COM."),
			"login":       str("contoso.example.com"),
			"ipv4":        str("127.0.0.1:80"),
			"ipv6":        str("[::1]:80"),
			"extra-label": str("a.contoso.eastus.data.example.com"),
			"suffix":      str("contoso.eastus.data.example.com.evil.com"),
			"empty":       str(""),
		},
		"FuzzParseBlobPath": {
			"valid":      str("/v2/team/app/blobs/" + testDigest.String()),
			"dot-dot":    str("/v2/team/../app/blobs/" + testDigest.String()),
			"escaped":    str("/v2/team/%2e%2e/app/blobs/" + testDigest.String()),
			"double":     str("/v2/team//app/blobs/" + testDigest.String()),
			"trailing":   str("/v2/team/app/blobs/" + testDigest.String() + "/"),
			"uploads":    str("/v2/team/app/blobs/uploads/"),
			"catalog":    str("/v2/_catalog"),
			"tags":       str("/v2/team/app/tags/list"),
			"manifest":   str("/v2/team/app/manifests/latest"),
			"blobs-repo": str("/v2/a/blobs/b/blobs/" + testDigest.String()),
		},
		"FuzzParseRange": {
			"first":    {"bytes=0-0", int64(10)},
			"open":     {"bytes=5-", int64(10)},
			"suffix":   {"bytes=-3", int64(10)},
			"outside":  {"bytes=10-", int64(10)},
			"multiple": {"bytes=0-1,2-3", int64(10)},
			"huge":     {"bytes=9223372036854775806-9223372036854775807", int64(9223372036854775807)},
			"empty":    {"bytes=0-", int64(0)},
		},
	}
}

// TestSeedCorpus checks that the seed corpus on disk is the one seeds
// describes, so that tokens minted by earlier versions keep their meaning:
// the valid ones still verify and the others are still refused. With
// -update it rewrites the corpus.
func TestSeedCorpus(t *testing.T) {
	s := fuzzSigner(t)
	for target, files := range seeds(t) {
		for name, vals := range files {
			path := filepath.Join("testdata", "fuzz", target, name)
			var b strings.Builder
			b.WriteString("go test fuzz v1\n")
			for _, v := range vals {
				switch v := v.(type) {
				case string:
					fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(v))
				case int64:
					fmt.Fprintf(&b, "int64(%d)\n", v)
				}
			}
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if target != "FuzzVerify" {
				continue
			}
			tok := vals[0].(string)
			_, err := s.Verify(context.Background(), tok)
			if strings.HasPrefix(name, "valid") != (err == nil) {
				t.Errorf("seed %s: Verify = %v", name, err)
			}
			if on, rerr := os.ReadFile(path); rerr != nil || string(on) != b.String() {
				t.Errorf("seed %s on disk differs from the token of today's encoding (%v); old tokens would change meaning", path, rerr)
			}
		}
	}
}
