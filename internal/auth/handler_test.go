package auth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"berth/internal/berth"
)

// tokenServer serves the real handler over HTTP.
func tokenServer(t *testing.T, f *fixture) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(f.svc.Handler(f.store))
	t.Cleanup(srv.Close)
	return srv
}

// call sends a request to srv as if to host, and decodes the JSON answer.
func call(t *testing.T, srv *httptest.Server, host, method, path string, form url.Values, authz string) (int, map[string]any) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return resp.StatusCode, out
}

// errorOf returns the code and message of an error answer.
func errorOf(body map[string]any) (string, string) {
	errs, _ := body["errors"].([]any)
	if len(errs) != 1 {
		return "", ""
	}
	e, _ := errs[0].(map[string]any)
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	return code, msg
}

const host = "contoso.example.com"

func TestTokenEndpoint(t *testing.T) {
	f := newFixture(t, Config{})
	srv := tokenServer(t, f)
	admin := basic("contoso", adminPassword)
	ci := basic("ci", tokenPassword)
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name    string
		method  string
		host    string
		path    string
		form    url.Values
		authz   string
		anon    bool
		status  int
		code    string
		msg     string
		grants  []berth.Access // the access token must allow these
		refuses []berth.Access // and refuse these
		refresh bool           // a refresh token must be in the answer
	}{
		{name: "GET admin", method: "GET", path: "/oauth2/token?service=contoso.example.com&scope=repository:a/b:pull,push", authz: admin,
			status: 200, grants: []berth.Access{repo("a/b", "pull", "push")}},
		{name: "GET scopes repeated and space-separated", method: "GET",
			path:  "/oauth2/token?scope=repository:a:pull&scope=" + url.QueryEscape("repository:b:push registry:catalog:*"),
			authz: admin, status: 200, grants: []berth.Access{repo("a", "pull"), repo("b", "push"), catalog()}},
		{name: "GET token gets less than asked", method: "GET", path: "/oauth2/token?scope=repository:a/b:pull,push,delete", authz: ci,
			status: 200, grants: []berth.Access{repo("a/b", "pull")}, refuses: []berth.Access{repo("a/b", "push")}},
		{name: "GET star expands", method: "GET", path: "/oauth2/token?scope=repository:a:*", authz: basic("pusher", tokenPassword),
			status: 200, grants: []berth.Access{repo("a", "pull", "push")}, refuses: []berth.Access{repo("a", "delete")}},
		{name: "GET offline token", method: "GET", path: "/oauth2/token?offline_token=true", authz: admin, status: 200, refresh: true},
		{name: "GET alias host", method: "GET", host: "localhost:5000", path: "/oauth2/token?service=contoso.example.com&scope=repository:a:pull",
			authz: admin, status: 200, grants: []berth.Access{repo("a", "pull")}},
		{name: "GET wrong password", method: "GET", path: "/oauth2/token", authz: basic("ci", "nope"),
			status: 401, code: "UNAUTHORIZED", msg: `password does not match for user "ci"`},
		{name: "GET bearer credentials", method: "GET", path: "/oauth2/token", authz: "Bearer x",
			status: 401, code: "UNAUTHORIZED", msg: "a token request takes Basic credentials or none"},
		{name: "GET anonymous off", method: "GET", path: "/oauth2/token?scope=repository:a:pull",
			status: 401, code: "UNAUTHORIZED", msg: `registry "contoso" does not allow anonymous pull`},
		{name: "GET anonymous on", method: "GET", path: "/oauth2/token?scope=repository:a:pull,push", anon: true,
			status: 200, grants: []berth.Access{repo("a", "pull")}, refuses: []berth.Access{repo("a", "push")}},
		{name: "GET invalid scope", method: "GET", path: "/oauth2/token?scope=repository:a", authz: admin,
			status: 400, code: "INVALID_REQUEST", msg: `scope "repository:a" does not read type:name:actions`},
		{name: "GET invalid repository", method: "GET", path: "/oauth2/token?scope=repository:A:pull", authz: admin,
			status: 400, code: "INVALID_REQUEST", msg: `"A" is not a valid repository name`},
		{name: "GET wrong service", method: "GET", path: "/oauth2/token?service=fabrikam.example.com", authz: admin,
			status: 400, code: "INVALID_REQUEST", msg: `service "fabrikam.example.com" is not this login server, "contoso.example.com"`},
		{name: "GET unknown host", method: "GET", host: "nowhere.test", path: "/oauth2/token", authz: admin,
			status: 404, code: "NAME_UNKNOWN", msg: `no registry answers for host "nowhere.test"`},
		{name: "PUT", method: "PUT", path: "/oauth2/token", authz: admin,
			status: 405, code: "UNSUPPORTED", msg: "method PUT is not allowed; use GET, HEAD, POST"},
		{name: "POST password", method: "POST", path: "/oauth2/token",
			form:   form("grant_type", "password", "username", "ci", "password", tokenPassword, "service", host, "scope", "repository:a:pull,push"),
			status: 200, grants: []berth.Access{repo("a", "pull")}, refuses: []berth.Access{repo("a", "push")}},
		{name: "POST password offline", method: "POST", path: "/oauth2/token",
			form:   form("grant_type", "password", "username", "contoso", "password", adminPassword, "access_type", "offline", "scope", "repository:a:push"),
			status: 200, grants: []berth.Access{repo("a", "push")}, refresh: true},
		{name: "POST password wrong", method: "POST", path: "/oauth2/token",
			form:   form("grant_type", "password", "username", "contoso", "password", "nope"),
			status: 401, code: "UNAUTHORIZED", msg: `password does not match for user "contoso"`},
		{name: "POST password without user", method: "POST", path: "/oauth2/token",
			form:   form("grant_type", "password", "password", "nope"),
			status: 400, code: "INVALID_REQUEST", msg: "grant_type=password needs a username"},
		{name: "POST refresh without token", method: "POST", path: "/oauth2/token", form: form("grant_type", "refresh_token"),
			status: 400, code: "INVALID_REQUEST", msg: "grant_type=refresh_token needs a refresh_token"},
		{name: "POST refresh garbage", method: "POST", path: "/oauth2/token", form: form("grant_type", "refresh_token", "refresh_token", "x.y.z"),
			status: 401, code: "UNAUTHORIZED", msg: "refresh token is malformed"},
		{name: "POST unknown grant", method: "POST", path: "/oauth2/token", form: form("grant_type", "client_credentials"),
			status: 400, code: "INVALID_REQUEST", msg: `unsupported grant_type "client_credentials"`},
		{name: "POST wrong service", method: "POST", path: "/oauth2/token",
			form:   form("grant_type", "password", "username", "contoso", "password", adminPassword, "service", "evil.example.com"),
			status: 400, code: "INVALID_REQUEST", msg: `service "evil.example.com" is not this login server`},
		{name: "exchange operator", method: "POST", path: "/oauth2/exchange",
			form:   form("grant_type", "access_token", "service", host, "access_token", "operator-credential"),
			status: 200, refresh: true},
		{name: "exchange wrong operator credential", method: "POST", path: "/oauth2/exchange",
			form:   form("grant_type", "access_token", "service", host, "access_token", "guess"),
			status: 401, code: "UNAUTHORIZED", msg: "the access_token is not a valid operator credential"},
		{name: "exchange password", method: "POST", path: "/oauth2/exchange",
			form:   form("grant_type", "password", "username", "ci", "password", tokenPassword),
			status: 200, refresh: true},
		{name: "exchange disabled token", method: "POST", path: "/oauth2/exchange",
			form:   form("grant_type", "password", "username", "off", "password", tokenPassword),
			status: 401, code: "UNAUTHORIZED", msg: `token "off" is disabled`},
		{name: "exchange GET", method: "GET", path: "/oauth2/exchange", status: 405, code: "UNSUPPORTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.setAnonymousPull(tt.anon)
			h := tt.host
			if h == "" {
				h = host
			}
			status, body := call(t, srv, h, tt.method, tt.path, tt.form, tt.authz)
			if status != tt.status {
				t.Fatalf("status = %d (%v), want %d", status, body, tt.status)
			}
			if tt.status != 200 {
				code, msg := errorOf(body)
				if code != tt.code || !strings.Contains(msg, tt.msg) {
					t.Fatalf("error = %s %q, want %s %q", code, msg, tt.code, tt.msg)
				}
				return
			}
			if rt, _ := body["refresh_token"].(string); (rt != "") != tt.refresh {
				t.Errorf("refresh_token present = %v, want %v", rt != "", tt.refresh)
			}
			if tt.path == "/oauth2/exchange" {
				return
			}
			checkTokenAnswer(t, f, tt.method, body, tt.grants, tt.refuses)
		})
	}
}

// checkTokenAnswer checks the fields of a token answer and what its access
// token allows.
func checkTokenAnswer(t *testing.T, f *fixture, method string, body map[string]any, grants, refuses []berth.Access) {
	t.Helper()
	tok, _ := body["access_token"].(string)
	if tok == "" {
		t.Fatalf("no access_token in %v", body)
	}
	if method == "GET" && body["token"] != tok {
		t.Errorf("token %v differs from access_token", body["token"])
	}
	if method == "POST" && body["token"] != nil {
		t.Errorf("a POST answer has a token field")
	}
	if body["expires_in"] != float64(DefaultAccessTTL/time.Second) {
		t.Errorf("expires_in = %v", body["expires_in"])
	}
	if at, _ := body["issued_at"].(string); at != f.clock.Now().UTC().Format(time.RFC3339) {
		t.Errorf("issued_at = %q", at)
	}
	if method == "POST" {
		if want := formatScopes(grants); body["scope"] != want && !(want == "" && body["scope"] == nil) {
			t.Errorf("scope = %v, want %q", body["scope"], want)
		}
	}
	for _, a := range grants {
		if _, err := f.svc.Authorize(request("Bearer "+tok), f.reg, []berth.Access{a}); err != nil {
			t.Errorf("token does not allow %s: %v", FormatScope(a), err)
		}
	}
	for _, a := range refuses {
		if _, err := f.svc.Authorize(request("Bearer "+tok), f.reg, []berth.Access{a}); err == nil {
			t.Errorf("token allows %s", FormatScope(a))
		}
	}
}

func TestRefreshTokenRoundTrip(t *testing.T) {
	f := newFixture(t, Config{})
	srv := tokenServer(t, f)
	status, body := call(t, srv, host, "POST", "/oauth2/exchange", url.Values{
		"grant_type": {"access_token"}, "service": {host}, "access_token": {"operator-credential"},
	}, "")
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, body)
	}
	refresh := body["refresh_token"].(string)

	// Docker sends the refresh token as a password of the all-zero user.
	status, body = call(t, srv, host, "GET", "/oauth2/token?service="+host+"&scope=repository:x:delete", nil, basic(RefreshTokenUser, refresh))
	if status != 200 {
		t.Fatalf("GET with refresh token: %d %v", status, body)
	}
	p, err := f.svc.Authorize(request("Bearer "+body["token"].(string)), f.reg, []berth.Access{repo("x", "delete")})
	if err != nil || p.Kind != berth.PrincipalOperator {
		t.Fatalf("operator's access token: %+v, %v", p, err)
	}

	// containerd posts it as grant_type=refresh_token.
	status, body = call(t, srv, host, "POST", "/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "service": {host}, "scope": {"registry:catalog:*"},
	}, "")
	if status != 200 || body["scope"] != "registry:catalog:*" {
		t.Fatalf("POST refresh_token: %d %v", status, body)
	}

	// A refresh token of one registry is useless at another.
	status, body = call(t, srv, "fabrikam.example.com", "POST", "/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh},
	}, "")
	if code, msg := errorOf(body); status != 401 || code != "UNAUTHORIZED" || !strings.Contains(msg, `refresh token is for login server "contoso.example.com"`) {
		t.Fatalf("refresh token at another registry: %d %v", status, body)
	}

	// It expires after RefreshTTL.
	f.clock.Advance(DefaultRefreshTTL)
	status, body = call(t, srv, host, "GET", "/oauth2/token", nil, basic(RefreshTokenUser, refresh))
	if code, msg := errorOf(body); status != 401 || code != "UNAUTHORIZED" || !strings.Contains(msg, "refresh token expired") {
		t.Fatalf("expired refresh token: %d %v", status, body)
	}
}

// TestDockerFlow follows a client: a request without credentials gets a
// challenge, the client asks the realm for a token with the challenge's
// scope, and the request with that token passes.
func TestDockerFlow(t *testing.T) {
	f := newFixture(t, Config{Scheme: "http"})
	srv := tokenServer(t, f)
	need := []berth.Access{repo("team/app", "pull", "push")}
	r := httptest.NewRequest("PUT", "http://localhost:5000/v2/team/app/manifests/v1", nil)
	if _, err := f.svc.Authorize(r, f.reg, need); berth.KindOf(err) != berth.KindUnauthorized {
		t.Fatalf("without credentials: %v", err)
	}
	ch := f.svc.Challenge(r, f.reg, need)
	want := `Bearer realm="http://localhost:5000/oauth2/token",service="contoso.example.com",scope="repository:team/app:pull,push"`
	if ch != want {
		t.Fatalf("challenge = %s\nwant        %s", ch, want)
	}
	params := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+)="([^"]*)"`).FindAllStringSubmatch(ch, -1) {
		params[m[1]] = m[2]
	}
	realm, err := url.Parse(params["realm"])
	if err != nil {
		t.Fatal(err)
	}
	path := realm.Path + "?" + url.Values{"service": {params["service"]}, "scope": {params["scope"]}}.Encode()

	for _, tc := range []struct {
		user string
		want berth.Kind
		msg  string
	}{
		{"contoso", noError, ""},
		{"team", berth.KindDenied, `token "team" may not push to repository "team/app": its scope map "team" grants content/read, metadata/read`},
	} {
		t.Run(tc.user, func(t *testing.T) {
			pw := tokenPassword
			if tc.user == "contoso" {
				pw = adminPassword
			}
			status, body := call(t, srv, realm.Host, "GET", path, nil, basic(tc.user, pw))
			if status != 200 {
				t.Fatalf("token: %d %v", status, body)
			}
			r.Header.Set("Authorization", "Bearer "+body["token"].(string))
			_, err := f.svc.Authorize(r, f.reg, need)
			checkErr(t, err, tc.want, tc.msg)
		})
	}
}

func TestChallenge(t *testing.T) {
	f := newFixture(t, Config{})
	tls := httptest.NewRequest("GET", "https://contoso.example.com/v2/", nil)
	tests := []struct {
		name string
		r    *http.Request
		need []berth.Access
		want string
	}{
		{"base endpoint, scheme of the request", httptest.NewRequest("GET", "http://contoso.example.com/v2/", nil), nil,
			`Bearer realm="http://contoso.example.com/oauth2/token",service="contoso.example.com"`},
		{"TLS", tls, []berth.Access{catalog()},
			`Bearer realm="https://contoso.example.com/oauth2/token",service="contoso.example.com",scope="registry:catalog:*"`},
		{"two repositories", tls, []berth.Access{repo("a", "pull"), repo("b", "pull", "push")},
			`Bearer realm="https://contoso.example.com/oauth2/token",service="contoso.example.com",scope="repository:a:pull repository:b:pull,push"`},
		{"quotes are dropped", tls, []berth.Access{repo(`a"b`, "pull")},
			`Bearer realm="https://contoso.example.com/oauth2/token",service="contoso.example.com"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.svc.Challenge(tt.r, f.reg, tt.need); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestNewServiceConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		msg  string
	}{
		{"no domain", Config{}, "no domain configured"},
		{"bad scheme", Config{Domain: "example.com", Scheme: "ftp"}, `scheme "ftp" is neither http nor https`},
		{"negative ttl", Config{Domain: "example.com", AccessTTL: -time.Second}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewService(tt.cfg, newFakeStore(), newMemKeys(), nil)
			checkErr(t, err, berth.KindInvalid, tt.msg)
		})
	}
	s, err := NewService(Config{Domain: ".Example.COM."}, newFakeStore(), newMemKeys(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.LoginServer(berth.Registry{Name: "r"}); got != "r.example.com" {
		t.Errorf("login server = %q", got)
	}
	if s.cfg.KeyOverlap != DefaultRefreshTTL+DefaultKeyRefresh {
		t.Errorf("default key overlap = %v; it must outlast refresh tokens", s.cfg.KeyOverlap)
	}
}
