package dataendpoint

import (
	"context"
	"net/netip"
	"testing"
)

// BenchmarkMintVerify measures what one redirected pull costs the service:
// a token minted by the login server and verified by the data endpoint.
func BenchmarkMintVerify(b *testing.B) {
	s := fuzzSigner(b)
	ctx := context.Background()
	c := testClaims()
	c.ClientAddr = netip.MustParseAddr("192.0.2.7")
	b.ReportAllocs()
	for b.Loop() {
		tok, err := s.Mint(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyParallel measures verification on every core at once, as
// a busy data endpoint does it.
func BenchmarkVerifyParallel(b *testing.B) {
	s := fuzzSigner(b)
	ctx := context.Background()
	tok := mustMint(b, s, testClaims())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Verify(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
