package dataendpoint

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"
	"time"

	"berth/internal/berth"
)

// tamper decodes tok, lets f change its key id or claims, and re-encodes
// the payload with the original MAC.
func tamper(t testing.TB, tok string, f func(kid *string, c *Claims)) string {
	t.Helper()
	raw, err := decodeToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	kid, c := raw.kid, raw.claims
	f(&kid, &c)
	return encodeToken(encodePayload(kid, c), raw.sum)
}

// forge encodes c under kid with a MAC by secret.
func forge(kid string, secret []byte, c Claims) string {
	p := encodePayload(kid, c)
	return encodeToken(p, mac(secret, p))
}

// signingKey returns the id and secret of the key that signed tok.
func (e *env) signingKey(tok string) (string, []byte) {
	e.t.Helper()
	raw, err := decodeToken(tok)
	if err != nil {
		e.t.Fatal(err)
	}
	k, ok := e.keys.get(raw.kid)
	if !ok {
		e.t.Fatalf("key %q is not stored", raw.kid)
	}
	return raw.kid, k.Private
}

func claimsOf(t testing.TB, tok string) Claims {
	t.Helper()
	raw, err := decodeToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	return raw.claims
}

// TestAttackMatrix sends the data endpoint every kind of request it must
// refuse, next to the few it must serve, and checks status, OCI code and
// the cause named in the message.
func TestAttackMatrix(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	valid := e.mint(Claims{})
	kid, secret := e.signingKey(valid)
	vc := claimsOf(t, valid)
	d1, d2 := e.dgst["d1"].String(), e.dgst["d2"].String()

	e.clock.add(-time.Hour)
	expired := e.mint(Claims{})
	e.clock.add(time.Hour + 5*time.Minute)
	future := e.mint(Claims{})
	e.clock.add(-5 * time.Minute)

	other := make([]byte, keySize)
	rand.Read(other)
	authKey := berth.SigningKey{ID: "bearer-1", Private: other, CreatedAt: e.clock.now()}
	if err := e.keys.PutSigningKey(ctx, authKey); err != nil {
		t.Fatal(err)
	}
	if err := e.stores["eastus"].Delete(ctx, "contoso", e.dgst["gone"]); err != nil {
		t.Fatal(err)
	}
	write, long, v2 := vc, vc, vc
	write.Class = "write"
	long.Expires = long.IssuedAt.Add(2 * time.Hour)
	v2payload := encodePayload(kid, v2)
	v2payload[0] = 2

	dot := strings.IndexByte(valid, '.')
	forD2 := e.mint(Claims{Digest: e.dgst["d2"]})
	flipped := valid[:len(valid)-2] + string("AB"[boolInt(valid[len(valid)-2] == 'A')]) + valid[len(valid)-1:]

	host := dataHost("contoso", "eastus")
	p := func(tok string) string { return e.blobPath("team/app", "d1", tok) }
	q := "?bt=" + valid
	const (
		unauth = "UNAUTHORIZED"
		denied = "DENIED"
		unsup  = "UNSUPPORTED"
	)
	cases := []struct {
		name         string
		region       string // default eastus
		method       string // default GET
		host         string // default contoso's eastus data endpoint; "-" for none
		target       string
		hdr          []string
		status       int
		code, reason string
	}{
		// Controls: what must be served.
		{name: "valid", target: p(valid), status: 200},
		{name: "valid HEAD", method: "HEAD", target: p(valid), status: 200},
		{name: "host with port", host: host + ":8443", target: p(valid), status: 200},
		{name: "host in upper case with trailing dot", host: strings.ToUpper(host) + ".", target: p(valid), status: 200},
		{name: "garbage Authorization is ignored", target: p(valid), hdr: []string{"Authorization: Bearer garbage!!"}, status: 200},
		{name: "bound to this client", target: p(e.mint(Claims{ClientAddr: netip.MustParseAddr("127.0.0.1")})), status: 200},
		{name: "range", target: p(valid), hdr: []string{"Range: bytes=0-9"}, status: 206},
		{name: "suffix range", target: p(valid), hdr: []string{"Range: bytes=-5"}, status: 206},

		// The token is not a valid credential: 401.
		{name: "expired", target: p(expired), status: 401, code: unauth, reason: "expired"},
		{name: "not yet valid", target: p(future), status: 401, code: unauth, reason: "not valid yet"},
		{name: "tampered registry", target: p(tamper(t, valid, func(_ *string, c *Claims) { c.Registry = "fabrikam" })), status: 401, code: unauth, reason: "signature does not match"},
		{name: "tampered region", target: p(tamper(t, valid, func(_ *string, c *Claims) { c.Region = "westus" })), status: 401, code: unauth, reason: "signature does not match"},
		{name: "tampered digest", target: e.blobPath("team/app", "d2", tamper(t, valid, func(_ *string, c *Claims) { c.Digest = e.dgst["d2"] })), status: 401, code: unauth, reason: "signature does not match"},
		{name: "tampered repository", target: e.blobPath("other", "d1", tamper(t, valid, func(_ *string, c *Claims) { c.Repository = "other" })), status: 401, code: unauth, reason: "signature does not match"},
		{name: "tampered identity", target: p(tamper(t, valid, func(_ *string, c *Claims) { c.Identity = "admin:contoso@contoso" })), status: 401, code: unauth, reason: "signature does not match"},
		{name: "tampered expiry", target: p(tamper(t, expired, func(_ *string, c *Claims) { c.Expires = c.Expires.Add(2 * time.Hour) })), status: 401, code: unauth, reason: "signature does not match"},
		{name: "tampered issued-at", target: p(tamper(t, valid, func(_ *string, c *Claims) { c.IssuedAt = c.IssuedAt.Add(-time.Minute) })), status: 401, code: unauth, reason: "signature does not match"},
		{name: "tampered client address", target: p(tamper(t, e.mint(Claims{ClientAddr: netip.MustParseAddr("10.9.8.7")}), func(_ *string, c *Claims) { c.ClientAddr = netip.MustParseAddr("127.0.0.1") })), status: 401, code: unauth, reason: "signature does not match"},
		{name: "client binding removed", target: p(tamper(t, e.mint(Claims{ClientAddr: netip.MustParseAddr("10.9.8.7")}), func(_ *string, c *Claims) { c.ClientAddr = netip.Addr{} })), status: 401, code: unauth, reason: "signature does not match"},
		{name: "tampered class", target: p(tamper(t, valid, func(_ *string, c *Claims) { c.Class = "write" })), status: 401, code: unauth, reason: "signature does not match"},
		{name: "tampered key id", target: p(tamper(t, e.mint(Claims{}), func(k *string, _ *Claims) { *k = "bearer-1" })), status: 401, code: unauth, reason: "does not know"},
		{name: "tampered MAC", target: p(flipped), status: 401, code: unauth, reason: "signature does not match"},
		{name: "MAC of another key under our key id", target: p(forge(kid, other, vc)), status: 401, code: unauth, reason: "signature does not match"},
		{name: "MAC of a bearer-token key", target: p(forge("bearer-1", other, vc)), status: 401, code: unauth, reason: "does not know"},
		{name: "unknown data key", target: p(forge(KeyPrefix+"nope", other, vc)), status: 401, code: unauth, reason: "does not know"},
		{name: "MAC swapped onto another payload", target: e.blobPath("team/app", "d2", forD2[:strings.IndexByte(forD2, '.')]+valid[dot:]), status: 401, code: unauth, reason: "signature does not match"},
		{name: "truncated MAC", target: p(valid[:len(valid)-7]), status: 401, code: unauth, reason: "wrong length"},
		{name: "truncated by one character", target: p(valid[:len(valid)-1]), status: 401, code: unauth},
		{name: "truncated payload", target: p(valid[:dot/2] + valid[dot:]), status: 401, code: unauth},
		{name: "payload only", target: p(valid[:dot]), status: 401, code: unauth, reason: "<payload>.<signature>"},
		{name: "MAC only", target: p(valid[dot+1:]), status: 401, code: unauth, reason: "<payload>.<signature>"},
		{name: "empty token", target: p(""), status: 401, code: unauth, reason: "token is empty"},
		{name: "garbage token", target: p("hello.world"), status: 401, code: unauth},
		{name: "three parts", target: p(valid + ".x"), status: 401, code: unauth, reason: "<payload>.<signature>"},
		{name: "padding added", target: p(valid + "=="), status: 401, code: unauth, reason: "outside base64url"},
		{name: "newline injected", target: p(valid[:5] + "%0A" + valid[5:]), status: 401, code: unauth, reason: "outside base64url"},
		{name: "standard base64 alphabet", target: p(strings.NewReplacer("-", "%2B", "_", "/").Replace(valid) + "+"), status: 401, code: unauth, reason: "outside base64url"},
		{name: "huge token", target: p(strings.Repeat("A", 5000) + "." + valid[dot+1:]), status: 401, code: unauth, reason: "longer"},
		{name: "wrong version", target: p(encodeToken(v2payload, mac(secret, v2payload))), status: 401, code: unauth, reason: "version 2"},
		{name: "lifetime over the maximum", target: p(forge(kid, secret, long)), status: 401, code: unauth, reason: "lifetime"},
		{name: "no token", target: "/v2/team/app/blobs/" + d1, status: 401, code: unauth, reason: "carries no token"},
		{name: "token in another parameter", target: "/v2/team/app/blobs/" + d1 + "?token=" + valid, status: 401, code: unauth, reason: "carries no token"},
		{name: "two tokens", target: p(valid) + "&bt=" + valid, status: 401, code: unauth, reason: "2 tokens"},
		{name: "malformed query", target: p(valid) + "&x=%zz", status: 401, code: unauth, reason: "query string is malformed"},
		{name: "admin Basic credential without token", target: "/v2/team/app/blobs/" + d1, hdr: []string{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("contoso:adminpassword"))}, status: 401, code: unauth, reason: "carries no token"},
		{name: "bearer credential without token", target: "/v2/team/app/blobs/" + d1, hdr: []string{"Authorization: Bearer " + valid}, status: 401, code: unauth, reason: "carries no token"},
		{name: "HEAD without token", method: "HEAD", target: "/v2/team/app/blobs/" + d1, status: 401},

		// A genuine token used for something it does not cover: 403.
		{name: "registry A's token on B's host", host: dataHost("fabrikam", "eastus"), target: p(valid), status: 403, code: denied, reason: `issued for registry "contoso"`},
		{name: "registry B's token on A's host", target: p(e.mint(Claims{Registry: "fabrikam"})), status: 403, code: denied, reason: `issued for registry "fabrikam"`},
		{name: "token on an unknown registry's host", host: dataHost("nosuch", "eastus"), target: p(valid), status: 403, code: denied, reason: `this is the data endpoint of registry "nosuch"`},
		{name: "region X's token on region Y's host", region: "westus", host: dataHost("contoso", "westus"), target: p(valid), status: 403, code: denied, reason: `issued for region "eastus"`},
		{name: "region Y's token on region X's host", target: p(e.mint(Claims{Region: "westus"})), status: 403, code: denied, reason: `issued for region "westus"`},
		{name: "digest D1's token on D2's path", target: "/v2/team/app/blobs/" + d2 + q, status: 403, code: denied, reason: "issued for blob " + d1},
		{name: "other repository", target: "/v2/other/blobs/" + d1 + q, status: 403, code: denied, reason: `issued for repository "team/app"`},
		{name: "repository prefix", target: "/v2/team/blobs/" + d1 + q, status: 403, code: denied, reason: `issued for repository "team/app"`},
		{name: "bound to another client", target: p(e.mint(Claims{ClientAddr: netip.MustParseAddr("10.9.8.7")})), status: 403, code: denied, reason: "bound to client address 10.9.8.7"},
		{name: "bound to another IPv6 client", target: p(e.mint(Claims{ClientAddr: netip.MustParseAddr("2001:db8::1")})), status: 403, code: denied, reason: "bound to client address 2001:db8::1"},
		{name: "write class", target: p(forge(kid, secret, write)), status: 403, code: denied, reason: "reads only"},
		{name: "network rule", host: dataHost("locked", "eastus"), target: p(e.mint(Claims{Registry: "locked"})), status: 403, code: denied, reason: `network rule "deny-all"`},
		{name: "registry unknown to the network rules", host: dataHost("deleted", "eastus"), target: p(e.mint(Claims{Registry: "deleted"})), status: 404, code: "NAME_UNKNOWN", reason: "does not exist"},

		// Writes and other methods: 405.
		{name: "POST", method: "POST", target: p(valid), status: 405, code: unsup, reason: "read-only"},
		{name: "PUT", method: "PUT", target: p(valid), status: 405, code: unsup, reason: "read-only"},
		{name: "PATCH", method: "PATCH", target: p(valid), status: 405, code: unsup, reason: "read-only"},
		{name: "DELETE", method: "DELETE", target: p(valid), status: 405, code: unsup, reason: "read-only"},
		{name: "OPTIONS", method: "OPTIONS", target: p(valid), status: 405, code: unsup, reason: "read-only"},
		{name: "TRACE", method: "TRACE", target: p(valid), status: 405, code: unsup, reason: "read-only"},
		{name: "POST upload", method: "POST", target: "/v2/team/app/blobs/uploads/" + q, status: 405, code: unsup, reason: "read-only"},

		// Listings and other routes of the /v2 API: 404.
		{name: "API base", target: "/v2/" + q, status: 404, code: unsup, reason: "API base"},
		{name: "API base without slash", target: "/v2" + q, status: 404, code: unsup, reason: "API base"},
		{name: "catalog", target: "/v2/_catalog" + q, status: 404, code: unsup, reason: "catalog"},
		{name: "tag list", target: "/v2/team/app/tags/list" + q, status: 404, code: unsup, reason: "tag listing"},
		{name: "manifest by tag", target: "/v2/team/app/manifests/latest" + q, status: 404, code: unsup, reason: "a manifest"},
		{name: "manifest by digest", target: "/v2/team/app/manifests/" + d1 + q, status: 404, code: unsup, reason: "a manifest"},
		{name: "referrers", target: "/v2/team/app/referrers/" + d1 + q, status: 404, code: unsup, reason: "referrers"},
		{name: "uploads", target: "/v2/team/app/blobs/uploads/" + q, status: 404, code: unsup, reason: "uploads"},
		{name: "upload session", target: "/v2/team/app/blobs/uploads/abc" + q, status: 404, code: unsup, reason: "uploads"},
		{name: "root", target: "/" + q, status: 404, code: unsup, reason: "outside /v2/"},

		// Path tricks: 404.
		{name: "dot-dot", target: "/v2/x/../team/app/blobs/" + d1 + q, status: 404, code: "NAME_INVALID"},
		{name: "dot", target: "/v2/team/./app/blobs/" + d1 + q, status: 404, code: "NAME_INVALID"},
		{name: "escaped dot-dot", target: "/v2/x/%2e%2e/team/app/blobs/" + d1 + q, status: 404, code: unsup, reason: `contains "%"`},
		{name: "escaped slash", target: "/v2/team%2Fapp/blobs/" + d1 + q, status: 404, code: unsup, reason: `contains "%"`},
		{name: "escaped letter", target: "/v2/team/app/blobs/%73ha256:" + e.dgst["d1"].Encoded() + q, status: 404, code: unsup, reason: `contains "%"`},
		{name: "double slash", target: "/v2/team//app/blobs/" + d1 + q, status: 404, code: "NAME_INVALID"},
		{name: "leading double slash", target: "//v2/team/app/blobs/" + d1 + q, status: 404, code: unsup, reason: "outside /v2/"},
		{name: "trailing slash", target: "/v2/team/app/blobs/" + d1 + "/" + q, status: 404, code: "DIGEST_INVALID"},
		{name: "trailing junk", target: "/v2/team/app/blobs/" + d1 + "x" + q, status: 404, code: "DIGEST_INVALID"},
		{name: "trailing segment", target: "/v2/team/app/blobs/" + d1 + "/data" + q, status: 404, code: "DIGEST_INVALID"},
		{name: "path parameter", target: "/v2/team/app/blobs/" + d1 + ";x=1" + q, status: 404, code: unsup, reason: `contains ";"`},
		{name: "upper-case digest", target: "/v2/team/app/blobs/sha256:" + strings.ToUpper(e.dgst["d1"].Encoded()) + q, status: 404, code: unsup, reason: `contains "`},
		{name: "unsupported algorithm", target: "/v2/team/app/blobs/md5:d41d8cd98f00b204e9800998ecf8427e" + q, status: 404, code: "DIGEST_INVALID"},
		{name: "empty repository", target: "/v2//blobs/" + d1 + q, status: 404, code: "NAME_INVALID"},
		{name: "upper-case v2", target: "/V2/team/app/blobs/" + d1 + q, status: 404, code: unsup, reason: `contains "V"`},

		// Hosts that are not this node's data endpoints: 404.
		{name: "login server", host: "contoso.example.com", target: p(valid), status: 404, code: "NAME_UNKNOWN", reason: "want <registry>.<region>.data.example.com"},
		{name: "other domain", host: "contoso.eastus.data.example.org", target: p(valid), status: 404, code: "NAME_UNKNOWN"},
		{name: "suffix of another domain", host: host + ".evil.com", target: p(valid), status: 404, code: "NAME_UNKNOWN"},
		{name: "extra label", host: "a." + host, target: p(valid), status: 404, code: "NAME_UNKNOWN"},
		{name: "IPv4 literal", host: "127.0.0.1", target: p(valid), status: 404, code: "NAME_UNKNOWN", reason: "not by IP address"},
		{name: "IPv4 literal with port", host: strings.TrimPrefix(e.srvs["eastus"].URL, "http://"), target: p(valid), status: 404, code: "NAME_UNKNOWN", reason: "not by IP address"},
		{name: "IPv6 literal", host: "[::1]:80", target: p(valid), status: 404, code: "NAME_UNKNOWN", reason: "not by IP address"},
		{name: "no host", host: "-", target: p(valid), status: 404, code: "NAME_UNKNOWN", reason: "names no host"},
		{name: "region Y's host on region X's node", host: dataHost("contoso", "westus"), target: p(e.mint(Claims{Region: "westus"})), status: 404, code: "NAME_UNKNOWN", reason: `this node serves region "eastus"`},
		{name: "invalid registry label", host: "con_toso.eastus.data.example.com", target: p(valid), status: 404, code: "NAME_UNKNOWN"},
		{name: "bad port", host: host + ":x", target: p(valid), status: 404, code: "NAME_UNKNOWN", reason: "port is not a number"},

		// The blob and the range.
		{name: "blob deleted from the store", target: e.blobPath("team/app", "gone", e.mint(Claims{Digest: e.dgst["gone"]})), status: 404, code: "BLOB_UNKNOWN", reason: "is not in registry"},
		{name: "range past the end", target: p(valid), hdr: []string{"Range: bytes=999999-"}, status: 416, code: "RANGE_INVALID", reason: "outside blob"},
		{name: "empty blob, any range", target: e.blobPath("team/app", "empty", e.mint(Claims{Digest: e.dgst["empty"]})), hdr: []string{"Range: bytes=0-"}, status: 416, code: "RANGE_INVALID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			region, method, h := tc.region, tc.method, tc.host
			if region == "" {
				region = "eastus"
			}
			if method == "" {
				method = "GET"
			}
			switch h {
			case "":
				h = host
			case "-":
				h = ""
			}
			r := e.on(t).raw(region, method, tc.target, h, tc.hdr...)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("%s %s (Host %s) = %d %s %q, want %d %s", method, tc.target, h, r.status, r.code(), r.message(), tc.status, tc.code)
			}
			if !strings.Contains(r.message(), tc.reason) {
				t.Errorf("message %q does not name the cause %q", r.message(), tc.reason)
			}
			switch {
			case r.status < 300 && method == "GET":
				if ct := r.header.Get("Content-Type"); ct != "application/octet-stream" {
					t.Errorf("Content-Type of a blob = %q", ct)
				}
			case r.status >= 400 && method != "HEAD":
				if ct := r.header.Get("Content-Type"); ct != "application/json" || tc.code == "" && len(r.body) > 0 {
					t.Errorf("refusal has Content-Type %q and body %q", ct, r.body)
				}
				if strings.Contains(string(r.body), string(e.blobs["d1"][:32])) {
					t.Errorf("refusal carries blob bytes: %q", r.body)
				}
			}
			if r.status == 405 && r.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("405 with Allow %q, want \"GET, HEAD\"", r.header.Get("Allow"))
			}
		})
	}
	if n := len(cases); n < 50 {
		t.Errorf("only %d cases", n)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// on returns e reporting to t.
func (e *env) on(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}
