package dataendpoint

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

var testDigest = digest.FromString("layer")

func testClaims() Claims {
	return Claims{Registry: "contoso", Region: "eastus", Repository: "team/app", Digest: testDigest, Identity: "token:ci@contoso"}
}

// newSigner returns a signer over a fresh store at a fixed time.
func newSigner(t testing.TB, cfg SignerConfig) (*Signer, *memKeys, *clock) {
	t.Helper()
	keys := newMemKeys()
	c := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	s, err := NewSigner(keys, cfg, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return s, keys, c
}

func mustMint(t testing.TB, s *Signer, c Claims) string {
	t.Helper()
	tok, err := s.Mint(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wantRefused checks that Verify refuses tok as unauthorized, naming cause.
func wantRefused(t *testing.T, s *Signer, tok, cause string) {
	t.Helper()
	_, err := s.Verify(context.Background(), tok)
	if err == nil {
		t.Fatalf("Verify accepted a token it must refuse (%s)", cause)
	}
	if berth.KindOf(err) != berth.KindUnauthorized || !strings.Contains(berth.Message(err), cause) {
		t.Fatalf("Verify = %v (kind %v), want unauthorized naming %q", err, berth.KindOf(err), cause)
	}
}

func TestSignerRoundTrip(t *testing.T) {
	s, keys, c := newSigner(t, SignerConfig{})
	ctx := context.Background()
	in := testClaims()
	in.ClientAddr = netip.MustParseAddr("::ffff:192.0.2.7")
	tok := mustMint(t, s, in)
	got, err := s.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	want := testClaims()
	want.Class = ClassRead
	want.ClientAddr = netip.MustParseAddr("192.0.2.7")
	want.IssuedAt = c.now()
	want.Expires = c.now().Add(10 * time.Minute)
	if got != want {
		t.Fatalf("Verify = %+v\nwant %+v", got, want)
	}
	if len(keys.keys) != 1 {
		t.Fatalf("first Mint stored %d keys, want 1", len(keys.keys))
	}
	for id, k := range keys.keys {
		if !strings.HasPrefix(id, KeyPrefix) || len(k.Private) != keySize || !k.NotAfter.IsZero() {
			t.Errorf("stored key %+v", k)
		}
	}

	in = testClaims()
	in.TTL = 90 * time.Second
	got, err = s.Verify(ctx, mustMint(t, s, in))
	if err != nil || got.Expires != c.now().Add(90*time.Second) || got.ClientAddr.IsValid() {
		t.Fatalf("Verify of a 90s unbound token = %+v, %v", got, err)
	}
	if len(tok) > 400 || strings.ContainsAny(tok, "+/=%") {
		t.Errorf("token is %d bytes, not compact and URL-safe: %s", len(tok), tok)
	}
}

func TestMintRefusesBadClaims(t *testing.T) {
	s, _, _ := newSigner(t, SignerConfig{})
	for name, f := range map[string]func(*Claims){
		"no registry":          func(c *Claims) { c.Registry = "" },
		"registry upper case":  func(c *Claims) { c.Registry = "Contoso" },
		"registry with dot":    func(c *Claims) { c.Registry = "a.b" },
		"no region":            func(c *Claims) { c.Region = "" },
		"region hyphen first":  func(c *Claims) { c.Region = "-east" },
		"region with dot":      func(c *Claims) { c.Region = "east.us" },
		"repository dot-dot":   func(c *Claims) { c.Repository = "a/../b" },
		"repository empty":     func(c *Claims) { c.Repository = "" },
		"digest short":         func(c *Claims) { c.Digest = "sha256:abc" },
		"digest md5":           func(c *Claims) { c.Digest = "md5:d41d8cd98f00b204e9800998ecf8427e" },
		"identity empty":       func(c *Claims) { c.Identity = "" },
		"identity newline":     func(c *Claims) { c.Identity = "a\nb" },
		"identity long":        func(c *Claims) { c.Identity = strings.Repeat("x", 257) },
		"class write":          func(c *Claims) { c.Class = "write" },
		"negative TTL":         func(c *Claims) { c.TTL = -time.Second },
		"TTL under one second": func(c *Claims) { c.TTL = time.Millisecond },
		"TTL over maximum":     func(c *Claims) { c.TTL = 61 * time.Minute },
	} {
		c := testClaims()
		f(&c)
		if _, err := s.Mint(context.Background(), c); berth.KindOf(err) != berth.KindInvalid {
			t.Errorf("%s: Mint = %v, want KindInvalid", name, err)
		}
	}
}

func TestVerifyRefusals(t *testing.T) {
	s, _, c := newSigner(t, SignerConfig{})
	tok := mustMint(t, s, testClaims())
	raw, _ := decodeToken(tok)
	secret := s.set.Load().byID[raw.kid].secret
	dot := strings.IndexByte(tok, '.')

	wantRefused(t, s, "", "empty")
	wantRefused(t, s, "!!!", "outside base64url")
	wantRefused(t, s, tok+"=", "outside base64url")
	wantRefused(t, s, "a.b.c", "<payload>.<signature>")
	wantRefused(t, s, tok[:dot], "<payload>.<signature>")
	wantRefused(t, s, "."+tok[dot+1:], "<payload>.<signature>")
	wantRefused(t, s, tok[:dot]+".", "<payload>.<signature>")
	wantRefused(t, s, tok[:dot]+".AAAA", "wrong length")
	wantRefused(t, s, tok[:dot-8]+tok[dot:], "")
	wantRefused(t, s, "AA"+tok[dot:], "version 0")
	wantRefused(t, s, "Ag"+tok[dot:], "version 2")
	wantRefused(t, s, strings.Repeat("A", maxTokenLen)+tok[dot:], "longer")
	wantRefused(t, s, tamper(t, tok, func(_ *string, c *Claims) { c.Repository = "other" }), "signature does not match")
	wantRefused(t, s, forge(KeyPrefix+"unknown", secret, raw.claims), "does not know")
	wantRefused(t, s, forge("bearer-key", secret, raw.claims), "does not know")
	long := raw.claims
	long.Expires = long.IssuedAt.Add(61 * time.Minute)
	wantRefused(t, s, forge(raw.kid, secret, long), "lifetime")
	backwards := raw.claims
	backwards.Expires = backwards.IssuedAt.Add(-time.Second)
	wantRefused(t, s, forge(raw.kid, secret, backwards), "lifetime")
	trailing := encodePayload(raw.kid, raw.claims)
	trailing = append(trailing, 0)
	wantRefused(t, s, encodeToken(trailing, mac(secret, trailing)), "malformed")

	// Not valid yet: within the skew it is accepted, past it refused.
	early := raw.claims
	early.IssuedAt, early.Expires = c.now().Add(30*time.Second), c.now().Add(10*time.Minute)
	if _, err := s.Verify(context.Background(), forge(raw.kid, secret, early)); err != nil {
		t.Fatalf("token issued 30s ahead (the skew): %v", err)
	}
	early.IssuedAt = c.now().Add(31 * time.Second)
	wantRefused(t, s, forge(raw.kid, secret, early), "not valid yet")

	// Expiry is exact.
	c.add(10*time.Minute - time.Second)
	if _, err := s.Verify(context.Background(), tok); err != nil {
		t.Fatalf("token one second before expiry: %v", err)
	}
	c.add(time.Second)
	wantRefused(t, s, tok, "expired")
}

func TestRotationWithOverlap(t *testing.T) {
	cfg := SignerConfig{Refresh: time.Minute, Overlap: 90 * time.Minute}
	a, keys, c := newSigner(t, cfg)
	b, err := NewSigner(keys, cfg, c.now) // another node of the region
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bearer := berth.SigningKey{ID: "bearer-key", Private: []byte("not ours"), CreatedAt: c.now()}
	if err := keys.PutSigningKey(ctx, bearer); err != nil {
		t.Fatal(err)
	}
	old := mustMint(t, a, testClaims())
	oldKid := mustDecode(t, old).kid
	if _, err := b.Verify(ctx, old); err != nil {
		t.Fatalf("node b verifying node a's token: %v", err)
	}

	c.add(time.Second)
	if err := a.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	k, _ := keys.get(oldKid)
	if want := c.now().Add(90 * time.Minute); !k.NotAfter.Equal(want) {
		t.Fatalf("retired key NotAfter = %v, want %v", k.NotAfter, want)
	}
	if k, _ := keys.get("bearer-key"); !k.NotAfter.IsZero() {
		t.Fatalf("Rotate retired a key of another use: %+v", k)
	}
	fresh := mustMint(t, a, testClaims())
	newKid := mustDecode(t, fresh).kid
	if newKid == oldKid {
		t.Fatal("Mint after Rotate still signs with the old key")
	}
	// Node b does not know the new key yet; the unknown id makes it reload.
	if _, err := b.Verify(ctx, fresh); err != nil {
		t.Fatalf("node b verifying a token of the new key: %v", err)
	}
	if _, err := a.Verify(ctx, old); err != nil {
		t.Fatalf("token of the retired key within the overlap: %v", err)
	}

	// A token of the old key verifies until the key's NotAfter, then fails
	// even though the token itself has not expired.
	shortly := c.now().Add(3 * time.Minute)
	k.NotAfter = shortly
	if err := keys.PutSigningKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	c.add(2 * time.Minute) // past Refresh: the nodes see the new NotAfter
	for _, s := range []*Signer{a, b} {
		if _, err := s.Verify(ctx, old); err != nil {
			t.Fatalf("before NotAfter: %v", err)
		}
	}
	old2 := forgeWith(t, keys, oldKid, c.now(), 5*time.Minute)
	if _, err := a.Verify(ctx, old2); err != nil {
		t.Fatalf("before NotAfter: %v", err)
	}
	c.add(time.Minute)
	wantRefused(t, a, old2, "retired since")
	wantRefused(t, b, old2, "retired since")
	if _, err := a.Verify(ctx, fresh); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}

	// The next rotation deletes the key past its NotAfter and leaves the
	// bearer-token key alone.
	if err := a.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := keys.get(oldKid); ok {
		t.Error("key past its NotAfter survived a rotation")
	}
	if k, ok := keys.get("bearer-key"); !ok || !k.NotAfter.IsZero() {
		t.Errorf("key of another use changed: %+v, %v", k, ok)
	}
	if k, _ := keys.get(newKid); k.NotAfter.IsZero() {
		t.Error("second rotation did not retire the key of the first")
	}
}

func mustDecode(t testing.TB, tok string) rawToken {
	t.Helper()
	raw, err := decodeToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// forgeWith signs testClaims issued at iat for ttl with the stored key kid,
// as a node that still signs with it would.
func forgeWith(t testing.TB, keys *memKeys, kid string, iat time.Time, ttl time.Duration) string {
	t.Helper()
	k, ok := keys.get(kid)
	if !ok {
		t.Fatalf("no key %s", kid)
	}
	c := testClaims()
	c.Class, c.IssuedAt, c.Expires = ClassRead, iat, iat.Add(ttl)
	return forge(kid, k.Private, c)
}

func TestVerifyUsesTheCache(t *testing.T) {
	s, keys, c := newSigner(t, SignerConfig{Refresh: time.Minute, MissEvery: 5 * time.Second})
	ctx := context.Background()
	tok := mustMint(t, s, testClaims())
	base := keys.reads()
	for range 100 {
		if _, err := s.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := keys.reads() - base; n != 0 {
		t.Fatalf("100 verifications read the store %d times, want 0", n)
	}

	raw := mustDecode(t, tok)
	unknown := forge(KeyPrefix+"unknown", make([]byte, keySize), raw.claims)
	for range 10 {
		wantRefused(t, s, unknown, "does not know")
	}
	if n := keys.reads() - base; n != 1 {
		t.Fatalf("10 tokens of an unknown key read the store %d times, want 1", n)
	}
	c.add(5 * time.Second)
	wantRefused(t, s, unknown, "does not know")
	if n := keys.reads() - base; n != 2 {
		t.Fatalf("after MissEvery the store was read %d times, want 2", n)
	}
	wantRefused(t, s, forge("bearer-key", make([]byte, keySize), raw.claims), "does not know")
	if n := keys.reads() - base; n != 2 {
		t.Fatalf("a key id without the data prefix made the store be read")
	}

	// A failed reload keeps the cached keys.
	keys.setFail(berth.E("test", berth.KindUnavailable, "database is down"))
	c.add(2 * time.Minute)
	tok2 := mustMint(t, s, testClaims())
	if _, err := s.Verify(ctx, tok2); err != nil {
		t.Fatalf("Verify with the store down after the first load: %v", err)
	}
	keys.setFail(nil)
}

func TestStoreDownAtFirstUse(t *testing.T) {
	s, keys, _ := newSigner(t, SignerConfig{})
	keys.setFail(berth.E("test", berth.KindUnavailable, "database is down"))
	if _, err := s.Verify(context.Background(), "AQ.AAAA"); err == nil {
		t.Fatal("Verify of a malformed token succeeded")
	}
	tok := forge(KeyPrefix+"x", make([]byte, keySize), Claims{})
	if _, err := s.Verify(context.Background(), tok); berth.KindOf(err) != berth.KindUnavailable {
		t.Fatalf("Verify with no keys loadable = %v, want KindUnavailable", err)
	}
	if _, err := s.Mint(context.Background(), testClaims()); berth.KindOf(err) != berth.KindUnavailable {
		t.Fatalf("Mint with no keys loadable = %v, want KindUnavailable", err)
	}
}

func TestMintReplacesRetiredKeys(t *testing.T) {
	s, keys, c := newSigner(t, SignerConfig{Refresh: time.Minute})
	ctx := context.Background()
	kid := mustDecode(t, mustMint(t, s, testClaims())).kid
	// Something else (say, a rotation of all keys in the table) retires it.
	k, _ := keys.get(kid)
	k.NotAfter = c.now().Add(time.Hour)
	keys.PutSigningKey(ctx, k)
	keys.PutSigningKey(ctx, berth.SigningKey{ID: KeyPrefix + "short", Private: []byte("short"), CreatedAt: c.now().Add(time.Second)})
	c.add(2 * time.Minute)
	next := mustDecode(t, mustMint(t, s, testClaims())).kid
	if next == kid || next == KeyPrefix+"short" {
		t.Fatalf("Mint signed with %s; want a new key", next)
	}
}

func TestSignerConfig(t *testing.T) {
	for name, cfg := range map[string]SignerConfig{
		"negative":           {Skew: -time.Second},
		"TTL over maximum":   {TTL: 2 * time.Hour},
		"overlap too short":  {Overlap: time.Hour},
		"overlap vs refresh": {MaxTTL: time.Hour, Refresh: 10 * time.Minute, Overlap: 65 * time.Minute},
	} {
		if _, err := NewSigner(newMemKeys(), cfg, nil); berth.KindOf(err) != berth.KindInvalid {
			t.Errorf("%s: NewSigner = %v, want KindInvalid", name, err)
		}
	}
}

func TestSignerConcurrent(t *testing.T) {
	s, _, c := newSigner(t, SignerConfig{Refresh: time.Second})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				tok, err := s.Mint(ctx, testClaims())
				if err == nil {
					_, err = s.Verify(ctx, tok)
				}
				if err != nil {
					errs <- err
					return
				}
				if i == 0 && j%10 == 0 {
					if err := s.Rotate(ctx); err != nil {
						errs <- err
						return
					}
					c.add(2 * time.Second)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
