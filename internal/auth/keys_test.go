package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"berth/internal/berth"
)

// kidOf returns the key id in a token's header.
func kidOf(t *testing.T, tok string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, &claims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := parsed.Header["kid"].(string)
	return kid
}

func TestFirstUseCreatesKey(t *testing.T) {
	f := newFixture(t, Config{})
	if n := len(f.keys.list()); n != 0 {
		t.Fatalf("key store holds %d keys before first use", n)
	}
	tok := f.accessToken(t, "contoso", adminPassword, "repository:a:pull")
	keys := f.keys.list()
	if len(keys) != 1 || !keys[0].NotAfter.IsZero() || keys[0].ID != kidOf(t, tok) {
		t.Fatalf("after first use the store holds %+v; want one active key that signed the token", keys)
	}
	if _, err := parseSigningKey(keys[0]); err != nil {
		t.Fatalf("stored key does not parse: %v", err)
	}
}

func TestRotateKeysOverlap(t *testing.T) {
	const overlap = 10 * time.Minute
	f := newFixture(t, Config{AccessTTL: time.Hour, KeyOverlap: overlap})
	need := []berth.Access{repo("a", "pull")}
	old := f.accessToken(t, "contoso", adminPassword, "repository:a:pull")
	oldKid := kidOf(t, old)

	if err := f.svc.RotateKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	rotatedAt := f.clock.Now()
	fresh := f.accessToken(t, "contoso", adminPassword, "repository:a:pull")
	if kidOf(t, fresh) == oldKid {
		t.Fatal("after rotation the old key still signs")
	}
	for _, k := range f.keys.list() {
		if k.ID == oldKid && !k.NotAfter.Equal(rotatedAt.Add(overlap)) {
			t.Fatalf("old key NotAfter = %v, want %v", k.NotAfter, rotatedAt.Add(overlap))
		}
	}

	steps := []struct {
		name    string
		advance time.Duration
		token   string
		want    berth.Kind
		msg     string
	}{
		{"old token right after rotation", 0, old, noError, ""},
		{"new token", 0, fresh, noError, ""},
		{"old token just before NotAfter", overlap - time.Second, old, noError, ""},
		{"old token at NotAfter", time.Second, old, berth.KindUnauthorized, "retired"},
		{"new token still", 0, fresh, noError, ""},
		{"old token after reload", DefaultKeyRefresh, old, berth.KindUnauthorized, "unknown or retired key"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			f.clock.Advance(st.advance)
			_, err := f.svc.Authorize(request("Bearer "+st.token), f.reg, need)
			checkErr(t, err, st.want, st.msg)
		})
	}

	t.Run("next rotation deletes keys past NotAfter", func(t *testing.T) {
		if err := f.svc.RotateKeys(context.Background()); err != nil {
			t.Fatal(err)
		}
		keys := f.keys.list()
		if len(keys) != 2 {
			t.Fatalf("store holds %d keys, want 2 (the new one and the one just retired)", len(keys))
		}
		for _, k := range keys {
			if k.ID == oldKid {
				t.Fatal("the expired key was not deleted")
			}
		}
	})
}

func TestKeysSharedAcrossNodes(t *testing.T) {
	a := newFixture(t, Config{})
	b, err := NewService(Config{Domain: "example.com", Now: a.clock.Now}, a.store, a.keys, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	need := []berth.Access{repo("a", "pull")}
	first := a.accessToken(t, "contoso", adminPassword, "repository:a:pull")
	if _, err := b.Authorize(request("Bearer "+first), a.reg, need); err != nil {
		t.Fatalf("node b rejects node a's token: %v", err)
	}
	if err := a.svc.RotateKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := a.accessToken(t, "contoso", adminPassword, "repository:a:pull")
	loads := a.keys.loads.Load()
	if _, err := b.Authorize(request("Bearer "+second), a.reg, need); err != nil {
		t.Fatalf("node b rejects a token of the rotated key: %v", err)
	}
	if n := a.keys.loads.Load() - loads; n != 1 {
		t.Fatalf("an unknown kid reloaded the keys %d times, want 1", n)
	}

	t.Run("unknown kids reload at most once per interval", func(t *testing.T) {
		other := newFixture(t, Config{})
		foreign := other.accessToken(t, "contoso", adminPassword, "repository:a:pull")
		a.clock.Advance(keyMissEvery)
		loads := a.keys.loads.Load()
		for range 20 {
			_, err := b.Authorize(request("Bearer "+foreign), a.reg, need)
			checkErr(t, err, berth.KindUnauthorized, "unknown or retired key")
		}
		if n := a.keys.loads.Load() - loads; n != 1 {
			t.Fatalf("20 tokens of an unknown key reloaded %d times, want 1", n)
		}
	})

	t.Run("keys reload periodically", func(t *testing.T) {
		loads := a.keys.loads.Load()
		if _, err := b.Authorize(request("Bearer "+second), a.reg, need); err != nil {
			t.Fatal(err)
		}
		if n := a.keys.loads.Load() - loads; n != 0 {
			t.Fatalf("a known key reloaded the keys %d times", n)
		}
		a.clock.Advance(DefaultKeyRefresh)
		if _, err := b.Authorize(request("Bearer "+second), a.reg, need); err != nil {
			t.Fatal(err)
		}
		if n := a.keys.loads.Load() - loads; n != 1 {
			t.Fatalf("after the refresh interval keys were loaded %d times, want 1", n)
		}
	})

	t.Run("a failed reload keeps the cached keys", func(t *testing.T) {
		a.keys.mu.Lock()
		a.keys.fail = berth.E("mem", berth.KindUnavailable, "key store down")
		a.keys.mu.Unlock()
		defer func() {
			a.keys.mu.Lock()
			a.keys.fail = nil
			a.keys.mu.Unlock()
		}()
		a.clock.Advance(DefaultKeyRefresh)
		if _, err := b.Authorize(request("Bearer "+second), a.reg, need); err != nil {
			t.Fatalf("verification failed while the key store is down: %v", err)
		}
	})
}

func TestKeyStoreDownAtFirstUse(t *testing.T) {
	f := newFixture(t, Config{})
	f.keys.fail = berth.E("mem", berth.KindUnavailable, "key store down")
	_, err := f.svc.issue(context.Background(), f.reg, subject{p: berth.Principal{Kind: berth.PrincipalAdmin, Name: "contoso", Registry: "contoso"}}, nil, false)
	checkErr(t, err, berth.KindUnavailable, "key store down")
	_, err = f.svc.Authorize(request("Bearer a.b.c"), f.reg, nil)
	checkErr(t, err, berth.KindUnauthorized, "malformed")
}

func TestParseSigningKey(t *testing.T) {
	pemKey, err := os.ReadFile("testdata/signing-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der384, _ := x509.MarshalPKCS8PrivateKey(ec384)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	derRSA, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	blk, _ := pem.Decode(pemKey)
	tests := []struct {
		name string
		key  SigningKey
		msg  string
	}{
		{"PEM", SigningKey{ID: "k", Private: pemKey}, ""},
		{"DER", SigningKey{ID: "k", Private: blk.Bytes}, ""},
		{"P-384", SigningKey{ID: "k", Private: der384}, "not an ECDSA P-256 key"},
		{"RSA", SigningKey{ID: "k", Private: derRSA}, "not an ECDSA P-256 key"},
		{"broken PEM", SigningKey{ID: "k", Private: []byte("-----BEGIN PRIVATE KEY-----\nxx")}, "not valid PEM"},
		{"garbage", SigningKey{ID: "k", Private: []byte("garbage")}, "asn1"},
		{"no id", SigningKey{Private: pemKey}, "no id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSigningKey(tt.key)
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want one containing %q", err, tt.msg)
			}
		})
	}
}

// TestConcurrentUse verifies, authenticates, issues and rotates at once;
// run with -race.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t, Config{})
	tok := f.accessToken(t, "ci", tokenPassword, "repository:a:pull")
	need := []berth.Access{repo("a", "pull")}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 50 {
				var err error
				switch g % 3 {
				case 0:
					_, err = f.svc.Authorize(request("Bearer "+tok), f.reg, need)
				case 1:
					_, err = f.svc.Authorize(request(basic("ci", tokenPassword)), f.reg, need)
				default:
					if i%10 == 0 {
						err = f.svc.RotateKeys(context.Background())
					} else {
						f.accessToken(t, "ci", tokenPassword, "repository:a:pull")
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
				f.clock.Advance(time.Second)
			}
		})
	}
	wg.Wait()
}
