package auth

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"berth/internal/berth"
)

// FuzzParseScope checks that scope parsing never panics and that what
// parses formats back to itself.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"repository:a/b:pull,push", "registry:catalog:*", "repository:a:b:c", "::", "a:b:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseScope(s)
		if err != nil {
			if berth.KindOf(err) != berth.KindInvalid {
				t.Fatalf("error of kind %v: %v", berth.KindOf(err), err)
			}
			return
		}
		if !printable(a.Type) || !printable(a.Name) || len(a.Actions) == 0 {
			t.Fatalf("parsed %q into %+v", s, a)
		}
		b, err := ParseScope(FormatScope(a))
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("%q parsed into %+v, which formats to %q and parses into %+v, %v", s, a, FormatScope(a), b, err)
		}
	})
}

// fuzzKeyID is the id under which testdata/signing-key.pem signs the seeds
// of FuzzAuthorizeBearer.
const fuzzKeyID = "testdata-key"

// fuzzFixture is a fixture whose only key is testdata/signing-key.pem, at
// the fixture's fixed time, so that the seed tokens in testdata verify
// their signatures.
func fuzzFixture(t testing.TB) *fixture {
	t.Helper()
	pemKey, err := os.ReadFile("testdata/signing-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, Config{})
	f.keys.keys[fuzzKeyID] = SigningKey{ID: fuzzKeyID, Private: pemKey, CreatedAt: time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)}
	return f
}

// FuzzAuthorizeBearer checks that no bearer token panics the verifier, and
// that a token authorizes only when it carries a genuine ES256 signature of
// the service's key over exactly its header and claims, and claims that an
// independent reading finds current, for this login server, of use
// "access".
func FuzzAuthorizeBearer(f *testing.F) {
	fx := fuzzFixture(f)
	valid := fx.accessToken(f, "ci", tokenPassword, "repository:a/b:pull,push", "registry:catalog:*")
	key, err := parseSigningKey(fx.keys.keys[fuzzKeyID])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(tamperString(valid, 1, `"pull"`, `"push"`))
	f.Add(strings.TrimSuffix(valid, valid[strings.LastIndexByte(valid, '.')+1:]))
	need := [][]berth.Access{
		{repo("a/b", "pull")},
		{repo("a/b", "push")},
		{catalog()},
		nil,
	}
	f.Fuzz(func(t *testing.T, tok string) {
		for _, n := range need {
			p, err := fx.svc.Authorize(request("Bearer "+tok), fx.reg, n)
			if err == nil {
				if why := genuine(tok, key, fx.clock.Now()); why != "" {
					t.Fatalf("token %q authorized %+v as %v, but %s", tok, n, p, why)
				}
				continue
			}
			if k := berth.KindOf(err); k != berth.KindUnauthorized && k != berth.KindDenied {
				t.Fatalf("error of kind %v: %v", k, err)
			}
		}
	})
}

// genuine checks a token that authorized without the code under test: it
// returns why the token should not have, or "".
func genuine(tok string, key *ringKey, now time.Time) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "it has no three segments"
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return "its signature is not 64 bytes of base64url"
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&key.priv.PublicKey, digest[:], r, s) {
		return "its signature is not the key's"
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "its claims are not base64url"
	}
	var c struct {
		Aud []string `json:"aud"`
		Exp int64    `json:"exp"`
		Use string   `json:"token_use"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "its claims are not JSON: " + err.Error()
	}
	if !slices.Equal(c.Aud, []string{"contoso.example.com"}) || c.Use != useAccess || now.Unix() >= c.Exp {
		return fmt.Sprintf("its claims %s are not a current access token of contoso", payload)
	}
	return ""
}

// tamperString replaces old by new in the decoded segment seg of a JWT.
func tamperString(tok string, seg int, old, new string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return tok
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[seg])
	if err != nil {
		return tok
	}
	parts[seg] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(b), old, new, 1)))
	return strings.Join(parts, ".")
}

// readSeed returns the string of a corpus file of a fuzz target.
func readSeed(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header, value, ok := strings.Cut(strings.TrimSpace(string(b)), "\n")
	inner, ok2 := strings.CutPrefix(value, "string(")
	if !ok || !ok2 || header != "go test fuzz v1" {
		t.Fatalf("%s is not a corpus file of one string", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(inner, ")"))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// TestBearerSeeds checks that each seed token in testdata, signed by
// testdata/signing-key.pem, is refused for the reason its name gives.
func TestBearerSeeds(t *testing.T) {
	fx := fuzzFixture(t)
	want := map[string]string{
		"alg-none":      `access token is signed with "none"`,
		"expired":       "access token expired at 2030-01-02T03:04:04Z",
		"garbage":       "access token is malformed",
		"no-kid":        "access token names no signing key (kid)",
		"not-yet-valid": "access token is not valid before",
		"refresh":       "access token is required, but this is a refresh token",
		"tampered":      "access token has an invalid signature",
		"unknown-kind":  `access token has unknown principal kind "root"`,
		"wrong-aud":     `access token is for login server "fabrikam.example.com"`,
		"wrong-issuer":  `access token was issued by "someone", not "berth"`,
	}
	for name, msg := range want {
		t.Run(name, func(t *testing.T) {
			tok := readSeed(t, "testdata/fuzz/FuzzAuthorizeBearer/"+name)
			_, err := fx.svc.Authorize(request("Bearer "+tok), fx.reg, []berth.Access{repo("a/b", "pull")})
			checkErr(t, err, berth.KindUnauthorized, msg)
		})
	}
}
