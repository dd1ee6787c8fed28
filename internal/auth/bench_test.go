package auth

import (
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"berth/internal/berth"
)

// BenchmarkAuthorizeBearer verifies one access token per operation: the
// cost of every request of a client that follows the token flow.
func BenchmarkAuthorizeBearer(b *testing.B) {
	f := newFixture(b, Config{})
	tok := f.accessToken(b, "ci", tokenPassword, "repository:team/app:pull")
	need := []berth.Access{repo("team/app", "pull")}
	r := request("Bearer " + tok)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.Authorize(r, f.reg, need); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthorizeBasicCached checks Basic credentials of a token whose
// password was verified before, with a hash of bcrypt's default cost: the
// metadata reads and the cache lookup, without bcrypt.
func BenchmarkAuthorizeBasicCached(b *testing.B) {
	f := newFixture(b, Config{})
	h, err := bcrypt.GenerateFromPassword([]byte(tokenPassword), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	f.store.setSecrets("contoso", berth.TokenOwner("ci"), berth.Secret{Name: "password1", Hash: h})
	need := []berth.Access{repo("team/app", "pull")}
	r := request(basic("ci", tokenPassword))
	if _, err := f.svc.Authorize(r, f.reg, need); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.Authorize(r, f.reg, need); err != nil {
			b.Fatal(err)
		}
	}
	if n := f.bcrypts.Load(); n != 1 {
		b.Fatalf("bcrypt ran %d times", n)
	}
}

// BenchmarkAuthorizeBearerParallel is BenchmarkAuthorizeBearer from
// concurrent clients, on the real clock: what a loaded node pays per
// request, contention on the cache included.
func BenchmarkAuthorizeBearerParallel(b *testing.B) {
	f := newFixture(b, Config{Now: time.Now})
	tok := f.accessToken(b, "pusher", tokenPassword, "repository:team/app:pull,push")
	need := []berth.Access{repo("team/app", "pull")}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := request("Bearer " + tok)
		for pb.Next() {
			if _, err := f.svc.Authorize(r, f.reg, need); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
