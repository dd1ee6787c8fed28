package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// authEnv is a node with authentication on, two registries created through
// the berth CLI, and a hosts file that maps their login servers to
// loopback for the clients.
type authEnv struct {
	s     *server
	op    string // operator credential
	hosts string // hosts file for the clients
}

func newAuthEnv(t *testing.T, extraArgs ...string) *authEnv {
	t.Helper()
	requireRoot(t)
	s := startServer(t, append([]string{"--auth=true"}, extraArgs...)...)
	op, err := os.ReadFile(filepath.Join(s.dataDir, "operator-token"))
	if err != nil {
		t.Fatalf("operator credential: %v", err)
	}
	hosts := filepath.Join(t.TempDir(), "hosts")
	content := "127.0.0.1 localhost contoso.localhost fabrikam.localhost default.local.data.localhost contoso.local.data.localhost registry.blob.storage.test\n"
	if err := os.WriteFile(hosts, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return &authEnv{s: s, op: strings.TrimSpace(string(op)), hosts: hosts}
}

// requireRoot skips a test that needs root (a private mount namespace for
// its hosts file), or fails it in CI, which runs as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if inCI() {
		t.Fatal("this test needs root (CI runs as root)")
	}
	t.Skip("needs root for a private /etc/hosts")
}

// berth returns a berth CLI command against the node, with the operator
// credential and a docker config directory.
func (e *authEnv) berth(dockerConfig string, args ...string) command {
	return command{bin: berthBin, args: args, env: []string{
		"BERTH_SERVER=" + e.s.url(""), "BERTH_TOKEN=" + e.op, "DOCKER_CONFIG=" + dockerConfig,
		"HOME=" + dockerConfig,
	}}
}

// client runs a client binary in a private mount namespace whose /etc/hosts
// resolves the login servers, with the given docker config directory.
func (e *authEnv) client(bin, dockerConfig string, args ...string) command {
	return command{
		bin:  "unshare",
		args: append([]string{"--mount", "--", "sh", "-c", `mount --bind "$0" /etc/hosts && exec "$@"`, e.hosts, bin}, args...),
		env:  []string{"DOCKER_CONFIG=" + dockerConfig, "HOME=" + dockerConfig, "REGCTL_CONFIG=" + filepath.Join(dockerConfig, "regctl.json")},
	}
}

func (e *authEnv) host(registry string) string {
	return registry + ".localhost:" + strings.TrimPrefix(e.s.addr(), "127.0.0.1:")
}

// TestAuthWithRealClients creates two registries with the CLI, logs in with
// `berth registry login`, and pushes and pulls with crane, skopeo and regctl
// over the token flow; a pull-only token cannot push, and one registry's
// credentials get nothing from the other.
func TestAuthWithRealClients(t *testing.T) {
	t.Parallel()
	crane, skopeo, regctl := tool(t, "crane"), tool(t, "skopeo"), tool(t, "regctl")
	e := newAuthEnv(t)
	admin := t.TempDir()
	e.berth(admin, "registry", "create", "-n", "contoso", "--sku", "Standard").run(t)
	e.berth(admin, "registry", "create", "-n", "fabrikam", "--sku", "Basic").run(t)

	// Anonymous requests are challenged towards the token service.
	resp, _ := do(t, http.MethodGet, e.s.url("/v2/"), nil, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="http://`+e.s.addr()+`/oauth2/token"`) {
		t.Fatalf("GET /v2/ without credentials: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	contoso, fabrikam := e.host("contoso"), e.host("fabrikam")
	cfgA := t.TempDir()
	e.berth(cfgA, "registry", "login", "-n", "contoso", "--server-host", contoso).run(t)

	img, err := random.Image(256<<10, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := digestOf(t, img).String()
	tarPath := filepath.Join(t.TempDir(), "image.tar")
	if err := tarball.WriteToFile(tarPath, parseRef(t, "example.com/app:v1"), img); err != nil {
		t.Fatal(err)
	}

	// crane pushes and pulls with the refresh token from berth login.
	e.client(crane, cfgA, "push", "--insecure", tarPath, contoso+"/app:v1").run(t)
	if got := strings.TrimSpace(string(e.client(crane, cfgA, "digest", "--insecure", contoso+"/app:v1").run(t))); got != want {
		t.Fatalf("crane digest = %s, want %s", got, want)
	}
	// skopeo copies within the registry and back out to a layout.
	auth := filepath.Join(cfgA, "config.json")
	e.client(skopeo, cfgA, "copy", "--authfile", auth, "--src-tls-verify=false", "--dest-tls-verify=false",
		"docker://"+contoso+"/app:v1", "docker://"+contoso+"/skopeo/app:v1").run(t)
	raw := e.client(skopeo, cfgA, "inspect", "--raw", "--authfile", auth, "--tls-verify=false",
		"docker://"+contoso+"/skopeo/app:v1").run(t)
	if got := sha256Digest(raw); got != want {
		t.Fatalf("skopeo read a manifest of digest %s, want %s", got, want)
	}
	// regctl reads the same docker config.
	e.client(regctl, cfgA, "registry", "set", "--tls", "disabled", contoso).run(t)
	e.client(regctl, cfgA, "image", "copy", contoso+"/app:v1", contoso+"/regctl/app:v1").run(t)
	if got := strings.TrimSpace(string(e.client(regctl, cfgA, "image", "digest", contoso+"/regctl/app:v1").run(t))); got != want {
		t.Fatalf("regctl digest = %s, want %s", got, want)
	}

	// A token whose scope map only pulls: pull works, push is denied with
	// a message naming the action.
	var tok struct {
		Credentials struct {
			Passwords []struct{ Name, Value string }
		}
	}
	out := e.berth(admin, "token", "create", "-n", "puller", "-r", "contoso", "--scope-map", "_repositories_pull").run(t)
	if err := json.Unmarshal(out, &tok); err != nil || len(tok.Credentials.Passwords) == 0 {
		t.Fatalf("token create printed %s (%v)", out, err)
	}
	cfgP := t.TempDir()
	e.berth(cfgP, "registry", "login", "-n", "contoso", "--server-host", contoso,
		"--username", "puller", "--password", tok.Credentials.Passwords[0].Value).run(t)
	e.client(crane, cfgP, "pull", "--insecure", contoso+"/app:v1", filepath.Join(t.TempDir(), "p.tar")).run(t)
	msg := e.client(crane, cfgP, "push", "--insecure", tarPath, contoso+"/app:v2").fail(t)
	if !strings.Contains(msg, "DENIED") || !strings.Contains(msg, "push") {
		t.Errorf("push with a pull-only token: %s", msg)
	}

	// contoso's refresh token, presented to fabrikam's login server, gets
	// nothing: not the catalog, not a pull, not a push.
	var cfg map[string]map[string]map[string]string
	b, _ := os.ReadFile(auth)
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["auths"][fabrikam] = cfg["auths"][contoso]
	cfgX := t.TempDir()
	b, _ = json.Marshal(cfg)
	os.WriteFile(filepath.Join(cfgX, "config.json"), b, 0o600)
	for _, args := range [][]string{
		{"catalog", "--insecure", fabrikam},
		{"ls", "--insecure", fabrikam + "/app"},
		{"push", "--insecure", tarPath, fabrikam + "/app:v1"},
	} {
		if msg := e.client(crane, cfgX, args...).fail(t); !strings.Contains(msg, "UNAUTHORIZED") {
			t.Errorf("crane %v with contoso's token on fabrikam: %s", args, msg)
		}
	}
	// And contoso's admin view never lists fabrikam's content.
	e.berth(admin, "registry", "login", "-n", "fabrikam", "--server-host", fabrikam).run(t)
	e.client(crane, admin, "push", "--insecure", tarPath, fabrikam+"/secret:v1").run(t)
	if got := string(e.client(crane, cfgA, "catalog", "--insecure", contoso).run(t)); strings.Contains(got, "secret") {
		t.Errorf("contoso's catalog lists fabrikam's repository: %s", got)
	}
}

// TestRateLimitRetryAfter exhausts a registry's write limit: the 429 carries
// Retry-After, and regctl, which backs off, still completes its push.
func TestRateLimitRetryAfter(t *testing.T) {
	t.Parallel()
	regctl := tool(t, "regctl")
	e := newAuthEnv(t, "--rate-limits", "Basic=600/120", "--rate-burst", "5s")
	admin := t.TempDir()
	e.berth(admin, "registry", "create", "-n", "fabrikam", "--sku", "Basic").run(t)
	fabrikam := e.host("fabrikam")
	e.berth(admin, "registry", "login", "-n", "fabrikam", "--server-host", fabrikam).run(t)

	// Raw requests until the limit answers.
	bearer := "Bearer " + e.accessToken(t, admin, "fabrikam", "repository:a:pull,push")
	var got *http.Response
	for i := 0; i < 50 && got == nil; i++ {
		r := e.hostRequest(t, http.MethodPost, fabrikam, "/v2/a/blobs/uploads/", nil, http.Header{"Authorization": {bearer}})
		if r.StatusCode == http.StatusTooManyRequests {
			got = r
		}
	}
	if got == nil {
		t.Fatal("no 429 after 50 writes with a limit of 120 per minute")
	}
	if ra := got.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("429 without a useful Retry-After: %q", ra)
	}

	layout := writeLayout(t, "v1", ociImage(t, 1, 32<<10))
	e.client(regctl, admin, "registry", "set", "--tls", "disabled", fabrikam).run(t)
	e.client(regctl, admin, "image", "copy", "ocidir://"+layout+":v1", fabrikam+"/limited:v1").run(t)
	if n := strings.Count(string(e.s.logs.Bytes()), `"status":429`); n < 2 {
		t.Errorf("the push saw %d answers of 429; the test wants it to meet the limit", n)
	}
}

// hostRequest sends a request to the node with the given Host header.
func (e *authEnv) hostRequest(t *testing.T, method, host, path string, body url.Values, hdr http.Header) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(body.Encode())
	}
	req, err := http.NewRequest(method, e.s.url(path), rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// accessToken exchanges the refresh token that berth login stored in
// dockerConfig for an access token of scope on registry's login server.
func (e *authEnv) accessToken(t *testing.T, dockerConfig, registry, scope string) string {
	t.Helper()
	var cfg struct {
		Auths map[string]struct{ Auth string }
	}
	b, _ := os.ReadFile(filepath.Join(dockerConfig, "config.json"))
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(cfg.Auths[e.host(registry)].Auth)
	_, refresh, _ := strings.Cut(string(raw), ":")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh},
		"service": {registry + ".localhost"}, "scope": {scope}}
	req, _ := http.NewRequest(http.MethodPost, e.s.url("/oauth2/token"), strings.NewReader(form.Encode()))
	req.Host = e.host(registry)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token endpoint answered %d (%v)", resp.StatusCode, err)
	}
	return tok.AccessToken
}
