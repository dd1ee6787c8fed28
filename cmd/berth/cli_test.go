package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
	"berth/internal/mgmt"
	"berth/internal/mgmt/api"
	"berth/internal/mgmt/mgmttest"
)

// TestCLI runs the CLI suite against the management API over in-memory
// stores.
func TestCLI(t *testing.T) {
	runCLISuite(t, newMemoryTarget)
}

// newMemoryTarget returns the management API over empty in-memory stores,
// with the test fakes of the auth rules.
func newMemoryTarget(t *testing.T) mgmttest.Target {
	return newMemoryTargetWith(t, mgmt.Config{})
}

// newMemoryTargetWith is newMemoryTarget with the node configuration cfg;
// its domain, region and operator check are filled in.
func newMemoryTargetWith(t *testing.T, cfg mgmt.Config) mgmttest.Target {
	const token = "operator-s3cret"
	mem := mgmttest.NewMemory()
	cfg.Domain, cfg.Region = "example.com", "westeurope"
	cfg.VerifyOperator = func(got string) bool { return got == token }
	h := mgmt.NewHandler(cfg, mgmt.Deps{
		Registries: mem, Identities: mem, Content: mem, Passwords: mgmttest.Passwords{},
		BuiltInScopeMaps: mgmttest.BuiltInScopeMaps, ValidateScopeMapAction: mgmttest.ValidateScopeMapAction,
	}, slog.New(slog.DiscardHandler))
	return mgmttest.Target{Handler: h, Token: token, Domain: cfg.Domain, Region: cfg.Region, Content: mem}
}

// runCLISuite runs every CLI test against a fresh target from newTarget,
// served by an HTTP server that also answers /oauth2/exchange with a fake
// token service. Registries other than those the tests create may exist
// in a target (a node's default registry, say).
func runCLISuite(t *testing.T, newTarget func(t *testing.T) mgmttest.Target) {
	tests := []struct {
		name string
		run  func(*testing.T, *cliEnv)
	}{
		{"Registry", testRegistryCommands},
		{"RegistryErrors", testRegistryErrors},
		{"BoolFlags", testBoolFlags},
		{"OutputFormats", testOutputFormats},
		{"Credential", testCredentialCommands},
		{"ScopeMap", testScopeMapCommands},
		{"Token", testTokenCommands},
		{"Repository", testRepositoryCommands},
		{"Manifest", testManifestCommands},
		{"Confirmation", testConfirmation},
		{"Config", testConfig},
		{"Login", testLogin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newCLIEnv(t, newTarget(t)))
		})
	}
}

// cliEnv is what one CLI test works with: a served target and the
// environment the CLI sees.
type cliEnv struct {
	mgmttest.Target
	url      string
	env      map[string]string
	exchange *fakeExchange
}

func newCLIEnv(t *testing.T, target mgmttest.Target) *cliEnv {
	fx := &fakeExchange{operatorToken: target.Token}
	mux := http.NewServeMux()
	mux.Handle("/api/", target.Handler)
	mux.Handle("/oauth2/exchange", fx)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	home := t.TempDir()
	return &cliEnv{Target: target, url: srv.URL, exchange: fx, env: map[string]string{
		"BERTH_SERVER": srv.URL, "BERTH_TOKEN": target.Token, "HOME": home,
	}}
}

// run runs the CLI with args and returns what it wrote and its error.
func (e *cliEnv) run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), args, func(k string) string { return e.env[k] }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// ok runs the CLI, fails the test on an error, and returns its output.
func (e *cliEnv) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := e.run(t, args...)
	if err != nil {
		t.Fatalf("berth %s: %v (stderr %q)", strings.Join(args, " "), err, stderr)
	}
	return out
}

// okJSON runs the CLI and decodes its JSON output into out.
func (e *cliEnv) okJSON(t *testing.T, out any, args ...string) {
	t.Helper()
	s := e.ok(t, args...)
	// Start from zero: json.Unmarshal keeps the fields it does not see.
	v := reflect.ValueOf(out).Elem()
	v.Set(reflect.Zero(v.Type()))
	if err := json.Unmarshal([]byte(s), out); err != nil {
		t.Fatalf("berth %s: output is not JSON (%v):\n%s", strings.Join(args, " "), err, s)
	}
}

// fails runs the CLI and checks that it fails with exactly the error want
// and writes nothing to stdout.
func (e *cliEnv) fails(t *testing.T, want string, args ...string) {
	t.Helper()
	out, _, err := e.run(t, args...)
	if err == nil {
		t.Fatalf("berth %s succeeded with %q, want error %q", strings.Join(args, " "), out, want)
	}
	if err.Error() != want {
		t.Errorf("berth %s:\n got error %q\nwant error %q", strings.Join(args, " "), err, want)
	}
	if out != "" {
		t.Errorf("berth %s failed but wrote %q", strings.Join(args, " "), out)
	}
}

// createRegistry creates a registry through the CLI.
func (e *cliEnv) createRegistry(t *testing.T, name, sku string, more ...string) api.Registry {
	t.Helper()
	var reg api.Registry
	e.okJSON(t, &reg, append([]string{"registry", "create", "-n", name, "--sku", sku}, more...)...)
	return reg
}

// push stores an image made from seed in repo under tag and returns its
// digest, as a push through the registry API would. It waits a little
// afterwards so that every push has its own time.
func (e *cliEnv) push(t *testing.T, registry, repo, tag, seed string) digest.Digest {
	t.Helper()
	ctx := t.Context()
	config, layer := digest.FromString(seed+" config"), digest.FromString(seed+" layer")
	for _, d := range []digest.Digest{config, layer} {
		if err := e.Content.LinkBlob(ctx, registry, repo, d, 10); err != nil {
			t.Fatal(err)
		}
	}
	const mt = "application/vnd.oci.image.manifest.v1+json"
	payload := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json",`+
		`"digest":%q,"size":10},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":10}]}`,
		mt, config, layer)
	m := &berth.Manifest{Digest: digest.FromString(payload), MediaType: mt, Payload: []byte(payload),
		References: []berth.Reference{{Digest: config}, {Digest: layer}}, CreatedAt: time.Now().UTC()}
	if err := e.Content.PutManifest(ctx, registry, repo, m, tag); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	return m.Digest
}

// fakeExchange stands in for a login server's /oauth2/exchange: it
// accepts the operator token and any user whose password is "pw-"+user,
// and answers a refresh token that names the Host and the grant.
type fakeExchange struct {
	operatorToken string

	mu   sync.Mutex
	last *http.Request
}

func (fx *fakeExchange) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fx.mu.Lock()
	fx.last = r
	fx.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errors":[{"code":"UNSUPPORTED","message":"POST a form"}]}`)
		return
	}
	var who string
	switch r.PostForm.Get("grant_type") {
	case "access_token":
		if r.PostForm.Get("access_token") == fx.operatorToken {
			who = "operator"
		}
	case "password":
		if u := r.PostForm.Get("username"); u != "" && r.PostForm.Get("password") == "pw-"+u {
			who = u
		}
	}
	if who == "" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"the credential is not valid"}]}`)
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"refresh_token": "refresh/" + who + "@" + r.Host + "/" + r.PostForm.Get("service")})
}

// lastRequest returns the last request the fake answered.
func (fx *fakeExchange) lastRequest() *http.Request {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	return fx.last
}

// TestCheckHealthUnhealthy checks that check-health prints the report and
// fails when a check has status error.
func TestCheckHealthUnhealthy(t *testing.T) {
	target := newMemoryTargetWith(t, mgmt.Config{Health: func(_ context.Context, registry string) []api.HealthCheck {
		return []api.HealthCheck{{Name: "storage", Status: api.HealthError, Message: "the blob store is unreachable"}}
	}})
	e := newCLIEnv(t, target)
	e.createRegistry(t, "sickreg", "Basic")
	out, _, err := e.run(t, "registry", "check-health", "-n", "sickreg", "-o", "table")
	want := `registry check-health: registry "sickreg" is unhealthy: storage: the blob store is unreachable`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if !strings.Contains(out, "\nstorage   error   the blob store is unreachable\n") {
		t.Errorf("report:\n%s", out)
	}
}
