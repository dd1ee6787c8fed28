package main

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"berth/internal/mgmt/api"
)

// readDockerConfig returns the Docker configuration at path as raw
// fields, and its auths decoded.
func readDockerConfig(t *testing.T, path string) (map[string]json.RawMessage, map[string]map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]json.RawMessage
	var auths map[string]map[string]string
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	if err := json.Unmarshal(cfg["auths"], &auths); err != nil {
		t.Fatalf("auths: %v\n%s", err, b)
	}
	return cfg, auths
}

// basic returns the auth field that Docker stores for user and password.
func basic(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

func testLogin(t *testing.T, e *cliEnv) {
	if _, _, err := e.run(t, "registry", "show", "-n", "default"); err != nil {
		e.createRegistry(t, "default", "Basic")
	}
	e.createRegistry(t, "contoso", "Standard", "--admin-enabled")
	srv, _ := url.Parse(e.url)
	port := srv.Port()

	dir := filepath.Join(t.TempDir(), "docker")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.json")
	existing := `{"auths": {"other.example.com": {"auth": "b3RoZXI6cHc="}, "localhost:` + port + `": {"auth": "c3RhbGU6eA==", "email": "x"}},
	"credHelpers": {"gcr.io": "gcloud"}, "proxies": {"default": {"httpProxy": "http://proxy:3128"}}}`
	if err := os.WriteFile(path, []byte(existing), 0o644); err != nil {
		t.Fatal(err)
	}
	e.env["DOCKER_CONFIG"] = dir

	// The default registry on a loopback server: both loopback names.
	if out := e.ok(t, "login"); out != "Login succeeded\n" {
		t.Errorf("login printed %q", out)
	}
	cfg, auths := readDockerConfig(t, path)
	wantAuth := basic(refreshUser, "refresh/operator@127.0.0.1:"+port+"/default."+e.Domain)
	for _, h := range []string{"127.0.0.1:" + port, "localhost:" + port} {
		if len(auths[h]) != 1 || auths[h]["auth"] != wantAuth {
			t.Errorf("auths[%s] = %v, want auth %s", h, auths[h], wantAuth)
		}
	}
	var helpers map[string]string
	json.Unmarshal(cfg["credHelpers"], &helpers)
	if auths["other.example.com"]["auth"] != "b3RoZXI6cHc=" || len(helpers) != 1 || helpers["gcr.io"] != "gcloud" ||
		!strings.Contains(string(cfg["proxies"]), "http://proxy:3128") {
		t.Errorf("login dropped other entries: %v %s", auths, cfg["proxies"])
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config.json: %v, mode %v", err, fi.Mode())
	}
	req := e.exchange.lastRequest()
	if req.Host != "127.0.0.1:"+port || req.PostForm.Get("grant_type") != "access_token" ||
		req.PostForm.Get("service") != "default."+e.Domain || req.PostForm.Get("access_token") != e.Token {
		t.Errorf("exchange request: Host %s, form %v", req.Host, req.PostForm)
	}

	// Another registry: its login server, with the server's port.
	contoso := "contoso." + e.Domain + ":" + port
	if out := e.ok(t, "registry", "login", "-n", "contoso"); out != "Login succeeded\n" {
		t.Errorf("registry login printed %q", out)
	}
	_, auths = readDockerConfig(t, path)
	if got := auths[contoso]["auth"]; got != basic(refreshUser, "refresh/operator@"+contoso+"/contoso."+e.Domain) {
		t.Errorf("auths[%s] = %q", contoso, got)
	}
	if auths["localhost:"+port]["auth"] != wantAuth {
		t.Error("logging in to another registry changed the first one")
	}

	// An admin or token credential is stored as it is.
	e.ok(t, "login", "-n", "contoso", "-u", "ci-bot", "-p", "pw-ci-bot", "--server-host", "registry.internal:8443", "--server-host", "alt.internal")
	_, auths = readDockerConfig(t, path)
	for _, h := range []string{"registry.internal:8443", "alt.internal"} {
		if got := auths[h]["auth"]; got != basic("ci-bot", "pw-ci-bot") {
			t.Errorf("auths[%s] = %q", h, got)
		}
	}
	if req := e.exchange.lastRequest(); req.Host != "registry.internal:8443" || req.PostForm.Get("grant_type") != "password" {
		t.Errorf("password exchange: Host %s, form %v", req.Host, req.PostForm)
	}
	e.fails(t, "login: the login server "+contoso+" refused the login: the credential is not valid",
		"login", "-n", "contoso", "-u", "ci-bot", "-p", "wrong")
	e.fails(t, "login: give --username and --password together", "login", "-n", "contoso", "-u", "ci-bot")

	// --expose-token prints the token and writes nothing.
	before, _ := os.ReadFile(path)
	var exposed map[string]string
	e.okJSON(t, &exposed, "login", "-n", "contoso", "--expose-token")
	if exposed["accessToken"] != "refresh/operator@"+contoso+"/contoso."+e.Domain || exposed["loginServer"] != contoso || len(exposed) != 2 {
		t.Errorf("--expose-token printed %v", exposed)
	}
	if out := e.ok(t, "login", "-n", "contoso", "--expose-token", "--query", "accessToken", "-o", "tsv"); out != exposed["accessToken"]+"\n" {
		t.Errorf("--expose-token --query accessToken -o tsv = %q", out)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("--expose-token changed the Docker configuration")
	}

	// A login server that refuses the operator credential.
	e.exchange.operatorToken = "another"
	e.fails(t, "registry login: the login server "+contoso+" refused the login: the credential is not valid",
		"registry", "login", "-n", "contoso")
	e.exchange.operatorToken = e.Token
	e.fails(t, `login: registry "nosuchreg" not found`, "login", "-n", "nosuchreg")

	// A configuration that is not JSON is left alone.
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.run(t, "login")
	if err == nil || !strings.HasPrefix(err.Error(), "login: "+path+" is not a JSON object") {
		t.Errorf("login over a broken config: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{not json" {
		t.Errorf("login rewrote a broken config: %q", b)
	}

	// Without DOCKER_CONFIG: ~/.docker, created 0700, and a warning about
	// a credential store.
	delete(e.env, "DOCKER_CONFIG")
	home := e.env["HOME"]
	out, stderr, err := e.run(t, "login", "-n", "contoso")
	if err != nil || out != "Login succeeded\n" {
		t.Fatalf("login into a new ~/.docker: %v %q", err, out)
	}
	if stderr != "" {
		t.Errorf("stderr %q", stderr)
	}
	if fi, err := os.Stat(filepath.Join(home, ".docker")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("~/.docker: %v, mode %v", err, fi.Mode())
	}
	homeConfig := filepath.Join(home, ".docker", "config.json")
	if err := os.WriteFile(homeConfig, []byte(`{"credsStore": "desktop"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err = e.run(t, "login", "-n", "contoso")
	if err != nil || stderr != `warning: credsStore is "desktop": Docker asks that helper for `+contoso+", not the stored login\n" {
		t.Errorf("login with a credsStore: %v, stderr %q", err, stderr)
	}
	cfg, auths = readDockerConfig(t, homeConfig)
	if string(cfg["credsStore"]) != `"desktop"` || auths[contoso]["auth"] == "" {
		t.Errorf("config with credsStore after login: %v %v", cfg, auths)
	}
}

func TestLoginHosts(t *testing.T) {
	reg := api.Registry{Name: "default", LoginServer: "default.localhost"}
	contoso := api.Registry{Name: "contoso", LoginServer: "contoso.example.com"}
	for _, tc := range []struct {
		server string
		reg    api.Registry
		given  []string
		want   []string
	}{
		{"http://127.0.0.1:5000", reg, nil, []string{"127.0.0.1:5000", "localhost:5000"}},
		{"http://localhost:5000", reg, nil, []string{"localhost:5000", "127.0.0.1:5000"}},
		{"http://[::1]:5000", reg, nil, []string{"[::1]:5000", "localhost:5000", "127.0.0.1:5000"}},
		{"http://127.0.0.1", reg, nil, []string{"127.0.0.1", "localhost"}},
		{"http://127.0.0.1:5000", contoso, nil, []string{"contoso.example.com:5000"}},
		{"https://berth.example.com", contoso, nil, []string{"contoso.example.com"}},
		{"https://berth.example.com:8443", contoso, nil, []string{"contoso.example.com:8443"}},
		{"https://berth.example.com", reg, nil, []string{"default.localhost"}},
		{"http://127.0.0.1:5000", reg, []string{"registry.test"}, []string{"registry.test"}},
	} {
		u, _ := url.Parse(tc.server)
		if got := loginHosts(u, tc.reg, tc.given); !slices.Equal(got, tc.want) {
			t.Errorf("loginHosts(%s, %s, %v) = %v, want %v", tc.server, tc.reg.Name, tc.given, got, tc.want)
		}
	}
}
