package oci

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"berth/internal/berth"
)

// allowAll authorizes every request as one token principal.
type allowAll struct{ p berth.Principal }

func (a allowAll) Authorize(*http.Request, berth.Registry, []berth.Access) (berth.Principal, error) {
	return a.p, nil
}

func (allowAll) Challenge(*http.Request, berth.Registry, []berth.Access) string { return "" }

func TestAuthorizeStoresPrincipal(t *testing.T) {
	want := berth.Principal{Kind: berth.PrincipalToken, Name: "ci", Registry: "contoso"}
	h := &Handler{auth: allowAll{want}}
	r := httptest.NewRequest(http.MethodGet, "/v2/team/app/manifests/latest", nil)
	if _, ok := PrincipalFrom(r.Context()); ok {
		t.Fatal("a request that was not authorized has a principal")
	}
	q := request{registry: "contoso", target: parsePath(r.URL.Path)}
	r2, ok := h.authorize(httptest.NewRecorder(), r, berth.Registry{Name: "contoso"}, q)
	if !ok {
		t.Fatal("refused")
	}
	p, ok := PrincipalFrom(r2.Context())
	if !ok || p != want {
		t.Fatalf("PrincipalFrom = %+v, %v; want %+v", p, ok, want)
	}
	type otherKey struct{}
	ctx := context.WithValue(r2.Context(), otherKey{}, "v")
	if p, ok := PrincipalFrom(ctx); !ok || p != want {
		t.Fatalf("PrincipalFrom of a derived context = %+v, %v", p, ok)
	}
	ctx, cancel := context.WithCancel(r2.Context())
	cancel()
	if ctx.Err() == nil {
		t.Fatal("a context derived from the authorized request cannot be cancelled")
	}
}

// BenchmarkAuthorize is what the API adds to the Authorizer's own cost on
// every request: working out what it needs, and recording the principal.
func BenchmarkAuthorize(b *testing.B) {
	h := &Handler{auth: allowAll{berth.Principal{Kind: berth.PrincipalToken, Name: "ci", Registry: "contoso"}}}
	r := httptest.NewRequest(http.MethodGet, "/v2/team/app/manifests/latest", nil)
	q := request{registry: "contoso", target: parsePath(r.URL.Path)}
	reg := berth.Registry{Name: "contoso"}
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := h.authorize(w, r, reg, q); !ok {
			b.Fatal("refused")
		}
	}
}
