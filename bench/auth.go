package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// The auth group measures what authentication costs: berth with token auth
// against berth without, and Distribution with htpasswd basic auth against
// Distribution without, on the workloads whose requests are cheap enough
// for the check of credentials to show.
const groupAuth = "auth"

func authTargets(*config) []string {
	return []string{targetBerth, targetBerthAuth, targetDistribution, targetDistBasic}
}

func authWorkloads() []*workload {
	return []*workload{
		{name: "auth-pull", group: groupAuth, targets: authTargets, prepare: preparePull, run: runPull},
		{name: "auth-small-images", group: groupAuth, targets: authTargets, run: smallImages(200, "auth")},
		{name: "auth-manifest-get", group: groupAuth, targets: authTargets, prepare: prepareHot, run: runManifestGet},
		{name: "auth-blob-head", group: groupAuth, targets: authTargets, prepare: prepareHot, run: runBlobHead},
	}
}

// The built-in htpasswd of the basic-auth Distribution: user "bench" with
// password "bench-password", hashed with bcrypt at cost 5, the cost that
// `htpasswd -B` uses by default. It is fixed because the standard library
// has no bcrypt; Distribution compares it with bcrypt on every request.
const (
	benchUser     = "bench"
	benchPassword = "bench-password"
	benchHtpasswd = "bench:$2a$05$aSLF59KwZ3Bg8NyEMBLkQOSuvF7YEgb.JgmyoDDjTuIwI6nEkzA6m\n"
)

// startDistBasic runs Distribution with htpasswd basic auth: the file and
// user:password of -dist-htpasswd and -dist-basic, or the built-in ones.
func startDistBasic(ctx context.Context, cfg *config, work string, conns int) (*target, error) {
	path, user, pass := cfg.htpasswd, benchUser, benchPassword
	if path == "" {
		path = filepath.Join(work, "htpasswd")
		if err := os.WriteFile(path, []byte(benchHtpasswd), 0o600); err != nil {
			return nil, err
		}
	} else {
		user, pass, _ = strings.Cut(cfg.basic, ":")
	}
	return startDistribution(ctx, targetDistBasic, cfg.registry, work, path, basicAuth{user, pass}, conns)
}

// authArgs returns berth serve arguments with token auth on and rate
// limits off, from those of the berth without auth.
func authArgs(args []string) []string {
	out := slices.DeleteFunc(slices.Clone(args), func(a string) bool {
		return a == "--auth" || strings.HasPrefix(a, "--auth=") || strings.HasPrefix(a, "--rate-limits=")
	})
	return append(out, "--auth=true", "--rate-limits=off")
}

// startBerthAuth runs berth with token auth. Its client speaks to the
// login server localhost:PORT, where the registry "default" answers, and
// gets tokens with the operator credential that berth wrote to its data
// directory.
func startBerthAuth(ctx context.Context, bin string, extra []string, work string, conns int) (*target, error) {
	srv, addr, dir, err := launchBerth(targetBerthAuth, bin, authArgs(extra), work)
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(addr, ":")
	t := newTarget(targetBerthAuth, srv, dir, "http://localhost:"+port, addr, conns, nil)
	if err := t.ready(ctx, http.StatusUnauthorized); err != nil {
		return nil, fmt.Errorf("%w (want 401 without credentials: is --auth=true honoured?)", err)
	}
	op, err := os.ReadFile(filepath.Join(dir, "operator-token"))
	if err == nil {
		t.c.auth, err = newTokenAuth(ctx, t.c.hc, t.c.base, "default.localhost", strings.TrimSpace(string(op)))
	}
	if err == nil {
		err = t.ready(ctx, http.StatusOK)
	}
	if err != nil {
		srv.stop()
		return nil, err
	}
	return t, nil
}

// tokenAuth gets bearer tokens from berth's token service as docker and
// crane do: a refresh token once, then an access token per repository,
// kept until the registry answers 401.
type tokenAuth struct {
	hc      *http.Client
	base    string // the login server, http://localhost:PORT
	service string
	refresh string
	tokens  sync.Map // scope → *scopeToken
	fetches atomic.Int64
}

// scopeToken is the access token of one scope; mu is held while fetching.
type scopeToken struct {
	mu  sync.Mutex
	tok atomic.Pointer[string]
}

// newTokenAuth exchanges the operator credential for a refresh token at
// POST /oauth2/exchange.
func newTokenAuth(ctx context.Context, hc *http.Client, base, service, operator string) (*tokenAuth, error) {
	a := &tokenAuth{hc: hc, base: base, service: service}
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	err := a.post(ctx, "/oauth2/exchange", url.Values{"grant_type": {"access_token"}, "service": {service},
		"access_token": {operator}}, &out)
	if err != nil {
		return nil, err
	}
	if out.RefreshToken == "" {
		return nil, fmt.Errorf("POST %s/oauth2/exchange: no refresh_token", base)
	}
	a.refresh = out.RefreshToken
	return a, nil
}

// scopeOf returns the token scope a registry API path needs: pull and push
// on its repository, or none for /v2/.
func scopeOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ""
	}
	for _, sep := range []string{"/blobs/", "/manifests/", "/tags/"} {
		if i := strings.LastIndex(rest, sep); i > 0 {
			return "repository:" + rest[:i] + ":pull,push"
		}
	}
	return ""
}

func (a *tokenAuth) entry(scope string) *scopeToken {
	if e, ok := a.tokens.Load(scope); ok {
		return e.(*scopeToken)
	}
	e, _ := a.tokens.LoadOrStore(scope, &scopeToken{})
	return e.(*scopeToken)
}

// authorize sets the access token of the request's scope, fetching it
// first when there is none.
func (a *tokenAuth) authorize(r *http.Request) error {
	scope := scopeOf(r.URL.Path)
	e := a.entry(scope)
	tok := e.tok.Load()
	if tok == nil {
		e.mu.Lock()
		if tok = e.tok.Load(); tok == nil {
			s, err := a.fetch(r.Context(), scope)
			if err != nil {
				e.mu.Unlock()
				return err
			}
			tok = &s
			e.tok.Store(tok)
		}
		e.mu.Unlock()
	}
	r.Header.Set("Authorization", "Bearer "+*tok)
	return nil
}

// renew drops the access token that r was sent with, unless another
// request has replaced it already.
func (a *tokenAuth) renew(r *http.Request) {
	e := a.entry(scopeOf(r.URL.Path))
	if tok := e.tok.Load(); tok != nil && "Bearer "+*tok == r.Header.Get("Authorization") {
		e.tok.CompareAndSwap(tok, nil)
	}
}

// fetch asks POST /oauth2/token for an access token with the refresh token.
func (a *tokenAuth) fetch(ctx context.Context, scope string) (string, error) {
	a.fetches.Add(1)
	form := url.Values{"grant_type": {"refresh_token"}, "service": {a.service}, "refresh_token": {a.refresh}}
	if scope != "" {
		form.Set("scope", scope)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := a.post(ctx, "/oauth2/token", form, &out); err != nil {
		return "", err
	}
	if out.AccessToken == "" {
		return "", fmt.Errorf("POST %s/oauth2/token: no access_token", a.base)
	}
	return out.AccessToken, nil
}

// post sends a form to the token service and decodes its JSON answer.
func (a *tokenAuth) post(ctx context.Context, path string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s%s: status %d: %s", a.base, path, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return json.Unmarshal(body, out)
}
