package mgmttest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
	"berth/internal/client"
	"berth/internal/mgmt/api"
)

// Seeder writes content into a registry, as pushes through the registry
// API would: the metadata store's blob and manifest methods.
type Seeder interface {
	LinkBlob(ctx context.Context, registry, repo string, d digest.Digest, size int64) error
	PutManifest(ctx context.Context, registry, repo string, m *berth.Manifest, tag string) error
}

// Target is one management API under test.
type Target struct {
	// Handler serves /api/v1/ (it may serve more).
	Handler http.Handler
	// Token is the operator token that Handler accepts.
	Token string
	// Domain and Region are those the handler was configured with.
	Domain, Region string
	// Content writes the repositories the content tests need into the
	// same stores the handler reads.
	Content Seeder
}

// Run runs the whole suite. newTarget is called once per test, and must
// return a handler over empty stores (registries other than those the
// tests create may exist, such as a node's default registry).
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	tests := []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"Version", testVersion},
		{"OperatorToken", testOperatorToken},
		{"UnknownRoutes", testUnknownRoutes},
		{"MalformedBodies", testMalformedBodies},
		{"RegistryLifecycle", testRegistryLifecycle},
		{"RegistryNames", testRegistryNames},
		{"RegistrySKUs", testRegistrySKUs},
		{"SKUGates", testSKUGates},
		{"Endpoints", testEndpoints},
		{"Health", testHealth},
		{"AdminCredentials", testAdminCredentials},
		{"ScopeMaps", testScopeMaps},
		{"BuiltInScopeMaps", testBuiltInScopeMaps},
		{"ScopeMapErrors", testScopeMapErrors},
		{"Tokens", testTokens},
		{"TokenErrors", testTokenErrors},
		{"TokenPasswords", testTokenPasswords},
		{"Repositories", testRepositories},
		{"Tags", testTags},
		{"Manifests", testManifests},
		{"ContentErrors", testContentErrors},
		{"DeleteRegistry", testDeleteRegistry},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := newTarget(t)
			srv := httptest.NewServer(target.Handler)
			t.Cleanup(srv.Close)
			e := &env{Target: target, url: srv.URL, http: srv.Client(), ctx: t.Context()}
			e.c = client.New(srv.URL, target.Token, srv.Client())
			tc.run(t, e)
		})
	}
}

// env is what one test works with.
type env struct {
	Target
	url  string
	http *http.Client
	c    *client.Client
	ctx  context.Context
}

// response is an answer to a raw request.
type response struct {
	status int
	header http.Header
	body   []byte
}

// raw sends a request with the given body ("" for none) and Authorization
// header ("" for none).
func (e *env) raw(t *testing.T, method, path, body, authorization string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// authed sends a raw request with the operator token.
func (e *env) authed(t *testing.T, method, path, body string) response {
	t.Helper()
	return e.raw(t, method, path, body, "Bearer "+e.Token)
}

// wantRawError checks that r is an error body with status, code and
// message.
func wantRawError(t *testing.T, r response, status int, code api.Code, msg string) {
	t.Helper()
	var body api.ErrorResponse
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("error body %q is not JSON: %v", r.body, err)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	got := &client.Error{Status: r.status, Code: body.Error.Code, Message: body.Error.Message}
	checkError(t, got, status, code, msg, true)
}

// wantError checks that err is a *client.Error with status, code and the
// exact message.
func wantError(t *testing.T, err error, status int, code api.Code, msg string) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want %s %s", err, err, code, msg)
	}
	checkError(t, ce, status, code, msg, true)
}

// wantErrorContaining checks status and code, and that the message holds
// each of parts: for messages that the stores or the auth rules word.
func wantErrorContaining(t *testing.T, err error, status int, code api.Code, parts ...string) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want %s", err, err, code)
	}
	checkError(t, ce, status, code, "", false)
	for _, p := range parts {
		if !strings.Contains(strings.ToLower(ce.Message), strings.ToLower(p)) {
			t.Errorf("message %q does not mention %q", ce.Message, p)
		}
	}
}

func checkError(t *testing.T, e *client.Error, status int, code api.Code, msg string, exact bool) {
	t.Helper()
	if e.Status != status || e.Code != code {
		t.Errorf("got %d %s (%q), want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	if exact && e.Message != msg {
		t.Errorf("message\n got %q\nwant %q", e.Message, msg)
	}
	if e.Error() != e.Message {
		t.Errorf("Error() = %q, want the message", e.Error())
	}
}

// must returns v, or fails the test given to the function it returns on
// err: must(c.GetRegistry(ctx, name))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// check fails the test on err.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// createRegistry creates a registry or fails the test.
func (e *env) createRegistry(t *testing.T, req api.CreateRegistryRequest) api.Registry {
	t.Helper()
	return must(e.c.CreateRegistry(e.ctx, req))(t)
}
