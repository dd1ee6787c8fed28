package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"berth/internal/berth"
)

// segments decodes the header and the claims of a JWT into maps.
func segments(t *testing.T, tok string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d segments", tok, len(parts))
	}
	var out [2]map[string]any
	for i := range out {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out[0], out[1]
}

// TestTokenClaims pins what berth writes into a token: every request
// carries its access token, so nothing that verification does not read.
func TestTokenClaims(t *testing.T) {
	f := newFixture(t, Config{})
	access := f.accessToken(t, "contoso", adminPassword, "repository:team/app:pull,push")
	refresh, err := f.svc.refreshToken(context.Background(), f.reg, berth.Principal{Kind: berth.PrincipalAdmin, Name: "contoso", Registry: "contoso"})
	if err != nil {
		t.Fatal(err)
	}
	// The bound leaves room for longer registry and repository names than
	// the fixture's; in the earlier format (with "sub", "nbf", "jti" and
	// "typ") this token was over 600 bytes.
	if len(access) > 500 {
		t.Errorf("an access token for one repository is %d bytes, want at most 500", len(access))
	}
	tests := []struct {
		name   string
		tok    string
		claims []string
	}{
		{"access", access, []string{"access", "aud", "exp", "iat", "iss", "principal_kind", "principal_name", "registry", "token_use"}},
		{"refresh", refresh, []string{"aud", "exp", "iat", "iss", "principal_kind", "principal_name", "registry", "token_use"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, payload := segments(t, tt.tok)
			if got := slices.Sorted(maps.Keys(header)); !slices.Equal(got, []string{"alg", "kid"}) {
				t.Errorf("header fields %v, want alg and kid", got)
			}
			if got := slices.Sorted(maps.Keys(payload)); !slices.Equal(got, tt.claims) {
				t.Errorf("claims %v, want %v", got, tt.claims)
			}
		})
	}
}

// TestRefusedClaim checks that an access token names what was refused, and
// why, only when something was.
func TestRefusedClaim(t *testing.T) {
	f := newFixture(t, Config{})
	granted := f.accessToken(t, "ci", tokenPassword, "repository:a/b:pull")
	if _, payload := segments(t, granted); payload["refused"] != nil {
		t.Errorf("a token that was granted all it asked for has refused claim %v", payload["refused"])
	}
	partly := f.accessToken(t, "ci", tokenPassword, "repository:a/b:pull,push")
	if _, payload := segments(t, partly); payload["refused"] == nil {
		t.Error("a token that was refused push has no refused claim")
	}
	_, err := f.svc.Authorize(request("Bearer "+partly), f.reg, []berth.Access{repo("a/b", "push")})
	checkErr(t, err, berth.KindDenied, `token "ci" may not push to repository "a/b": its scope map "pullonly" grants content/read`)
}

// TestNotBeforeFromIssue checks that a token without "nbf" is valid from
// clockSkew before its issue.
func TestNotBeforeFromIssue(t *testing.T) {
	f := newFixture(t, Config{})
	tok := f.accessToken(t, "ci", tokenPassword, "repository:a/b:pull")
	need := []berth.Access{repo("a/b", "pull")}
	f.clock.Advance(-clockSkew)
	if _, err := f.svc.Authorize(request("Bearer "+tok), f.reg, need); err != nil {
		t.Fatalf("clockSkew before issue: %v", err)
	}
	f.clock.Advance(-time.Second)
	_, err := f.svc.Authorize(request("Bearer "+tok), f.reg, need)
	checkErr(t, err, berth.KindUnauthorized, "access token is not valid before 2030-01-02T03:03:35Z")
}

// TestOldFormatTokens checks that tokens in the earlier format, with
// "sub", "nbf" and "jti" and the header "typ", kept in testdata and signed
// by testdata/signing-key.pem, still verify: refresh tokens live for hours
// in clients' configuration, and access tokens outlive an upgrade by
// minutes.
func TestOldFormatTokens(t *testing.T) {
	fx := fuzzFixture(t)
	read := func(name string) string {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	ci := berth.Principal{Kind: berth.PrincipalToken, Name: "ci", Registry: "contoso"}

	t.Run("refresh", func(t *testing.T) {
		rt := read("old-format-refresh.jwt")
		sub, err := fx.svc.refreshSubject(context.Background(), fx.reg, rt)
		if err != nil || sub.p != ci {
			t.Fatalf("refreshSubject = %+v, %v; want %+v", sub.p, err, ci)
		}
		p, err := fx.svc.Authorize(request(basic(RefreshTokenUser, rt)), fx.reg, []berth.Access{repo("a/b", "pull")})
		if err != nil || p != ci {
			t.Fatalf("Basic refresh token: %+v, %v", p, err)
		}
	})
	t.Run("access", func(t *testing.T) {
		at := read("old-format-access.jwt")
		p, err := fx.svc.Authorize(request("Bearer "+at), fx.reg, []berth.Access{repo("a/b", "pull")})
		if err != nil || p != ci {
			t.Fatalf("pull: %+v, %v", p, err)
		}
		_, err = fx.svc.Authorize(request("Bearer "+at), fx.reg, []berth.Access{repo("a/b", "push")})
		checkErr(t, err, berth.KindDenied, `token "ci" may not push to repository "a/b"`)
		fx.clock.Advance(-clockSkew - time.Second)
		_, err = fx.svc.Authorize(request("Bearer "+at), fx.reg, []berth.Access{repo("a/b", "pull")})
		checkErr(t, err, berth.KindUnauthorized, "access token is not valid before 2030-01-02T03:03:35Z")
	})
}

// TestTamperedTokenMissesCache checks that a token differing in any part
// from one verified before is verified afresh, not answered from the cache
// of verified tokens.
func TestTamperedTokenMissesCache(t *testing.T) {
	f := newFixture(t, Config{})
	tok := f.accessToken(t, "ci", tokenPassword, "repository:a/b:pull")
	need := []berth.Access{repo("a/b", "pull")}
	if _, err := f.svc.Authorize(request("Bearer "+tok), f.reg, need); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := f.svc.verified.get(tok, f.clock.Now()); !ok {
		t.Fatal("a verified token is not in the cache")
	}
	parts := strings.Split(tok, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name, tok, msg string
	}{
		{"other principal", tamper(t, tok, func(p string) string {
			return strings.Replace(p, `"principal_kind":"token"`, `"principal_kind":"admin"`, 1)
		}), "access token has an invalid signature"},
		{"other name", tamper(t, tok, func(p string) string {
			return strings.Replace(p, `"principal_name":"ci"`, `"principal_name":"cj"`, 1)
		}), "access token has an invalid signature"},
		{"other signature", parts[0] + "." + parts[1] + "." + flip(parts[2], 10), "access token has an invalid signature"},
		{"other header", flip(parts[0], 3) + "." + parts[1] + "." + parts[2], "access token"},
		{"suffix", tok + "A", "access token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.tok == tok {
				t.Fatal("the tampered token is the original")
			}
			_, err := f.svc.Authorize(request("Bearer "+tt.tok), f.reg, need)
			checkErr(t, err, berth.KindUnauthorized, tt.msg)
		})
	}
}
