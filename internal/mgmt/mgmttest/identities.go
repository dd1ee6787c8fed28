package mgmttest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"berth/internal/mgmt/api"
)

// builtIns returns the names of the built-in scope maps of registry, in
// the order the list gives them, which must be before the registry's own.
func (e *env) builtIns(t *testing.T, registry string) []string {
	t.Helper()
	var names []string
	for i, m := range must(e.c.ListScopeMaps(e.ctx, registry))(t) {
		if m.Type != api.ScopeMapSystemDefined {
			continue
		}
		if i != len(names) {
			t.Errorf("built-in scope map %q is listed after the registry's own", m.Name)
		}
		if len(m.Actions) == 0 || !m.CreationDate.IsZero() {
			t.Errorf("built-in scope map %+v", m)
		}
		names = append(names, m.Name)
	}
	if len(names) == 0 {
		t.Fatal("no built-in scope maps")
	}
	return names
}

const (
	readApp  = "repositories/team/app/content/read"
	writeApp = "repositories/team/app/content/write"
	readBase = "repositories/base/*/metadata/read"
)

func testScopeMaps(t *testing.T, e *env) {
	const reg = "scopes1"
	e.createRegistry(t, api.CreateRegistryRequest{Name: reg, SKU: "Basic"})
	r := e.authed(t, "POST", "/api/v1/registries/scopes1/scopeMaps",
		`{"name": "ci-pull_1", "description": "CI", "actions": ["`+readApp+`", "`+readApp+`", "`+readBase+`"]}`)
	if r.status != http.StatusCreated || r.header.Get("Location") != "/api/v1/registries/scopes1/scopeMaps/ci-pull_1" {
		t.Fatalf("create scope map: %d %s %v", r.status, r.body, r.header)
	}
	m := must(e.c.GetScopeMap(e.ctx, reg, "ci-pull_1"))(t)
	if m.Name != "ci-pull_1" || m.Description != "CI" || m.Type != api.ScopeMapUserDefined || m.CreationDate.IsZero() ||
		!slices.Equal(m.Actions, []string{readApp, readBase}) {
		t.Errorf("GetScopeMap = %+v", m)
	}
	builtIns := e.builtIns(t, reg)
	list := must(e.c.ListScopeMaps(e.ctx, reg))(t)
	if len(list) != len(builtIns)+1 || list[len(list)-1].Name != "ci-pull_1" {
		t.Errorf("ListScopeMaps = %+v", list)
	}

	m = must(e.c.UpdateScopeMap(e.ctx, reg, "ci-pull_1", api.UpdateScopeMapRequest{
		Description: new("CI pushes"), AddActions: []string{writeApp, readApp}, RemoveActions: []string{readBase}}))(t)
	if m.Description != "CI pushes" || !slices.Equal(m.Actions, []string{readApp, writeApp}) {
		t.Errorf("UpdateScopeMap = %+v", m)
	}
	m = must(e.c.UpdateScopeMap(e.ctx, reg, "ci-pull_1", api.UpdateScopeMapRequest{Description: new("")}))(t)
	if m.Description != "" || !slices.Equal(m.Actions, []string{readApp, writeApp}) {
		t.Errorf("description-only update = %+v", m)
	}
	if got := must(e.c.GetScopeMap(e.ctx, reg, "ci-pull_1"))(t); !slices.Equal(got.Actions, m.Actions) || got.Description != "" {
		t.Errorf("after update GetScopeMap = %+v", got)
	}

	check(t, e.c.DeleteScopeMap(e.ctx, reg, "ci-pull_1"))
	_, err := e.c.GetScopeMap(e.ctx, reg, "ci-pull_1")
	wantError(t, err, http.StatusNotFound, api.CodeScopeMapNotFound, `scope map "ci-pull_1" not found`)
}

func testBuiltInScopeMaps(t *testing.T, e *env) {
	const reg = "scopes2"
	e.createRegistry(t, api.CreateRegistryRequest{Name: reg, SKU: "Basic"})
	for _, name := range e.builtIns(t, reg) {
		m := must(e.c.GetScopeMap(e.ctx, reg, name))(t)
		if m.Type != api.ScopeMapSystemDefined || len(m.Actions) == 0 {
			t.Errorf("GetScopeMap(%s) = %+v", name, m)
		}
		_, err := e.c.UpdateScopeMap(e.ctx, reg, name, api.UpdateScopeMapRequest{AddActions: []string{readApp}})
		wantError(t, err, http.StatusForbidden, api.CodeOperationDenied, `scope map "`+name+`" is built in and cannot be changed`)
		wantError(t, e.c.DeleteScopeMap(e.ctx, reg, name), http.StatusForbidden, api.CodeOperationDenied,
			`scope map "`+name+`" is built in and cannot be deleted`)
		_, err = e.c.CreateScopeMap(e.ctx, reg, api.CreateScopeMapRequest{Name: name, Actions: []string{readApp}})
		wantError(t, err, http.StatusConflict, api.CodeScopeMapAlreadyExists, `scope map "`+name+`" already exists: it is a built-in scope map`)
		if got := must(e.c.GetScopeMap(e.ctx, reg, name))(t); !slices.Equal(got.Actions, m.Actions) {
			t.Errorf("built-in scope map %s changed to %+v", name, got)
		}
	}
}

func testScopeMapErrors(t *testing.T, e *env) {
	const reg = "scopes3"
	e.createRegistry(t, api.CreateRegistryRequest{Name: reg, SKU: "Basic"})
	const rule = "a scope map name must be 5 to 50 letters, digits, '-' and '_' (^[a-zA-Z0-9_-]{5,50}$)"
	long := strings.Repeat("m", 51)
	for _, tc := range []struct{ name, msg string }{
		{"abcd", `invalid scope map name "abcd": it is 4 characters long; ` + rule},
		{long, `invalid scope map name "` + long + `": it is 51 characters long; ` + rule},
		{"bad.name", `invalid scope map name "bad.name": it contains '.'; ` + rule},
		{"", "the scope map name is missing; " + rule},
	} {
		_, err := e.c.CreateScopeMap(e.ctx, reg, api.CreateScopeMapRequest{Name: tc.name, Actions: []string{readApp}})
		wantError(t, err, http.StatusBadRequest, api.CodeInvalidScopeMapName, tc.msg)
	}
	must(e.c.CreateScopeMap(e.ctx, reg, api.CreateScopeMapRequest{Name: "dup-map", Actions: []string{readApp}}))(t)
	_, err := e.c.CreateScopeMap(e.ctx, reg, api.CreateScopeMapRequest{Name: "dup-map", Actions: []string{readApp}})
	wantError(t, err, http.StatusConflict, api.CodeScopeMapAlreadyExists, `scope map "dup-map" already exists`)

	_, err = e.c.CreateScopeMap(e.ctx, reg, api.CreateScopeMapRequest{Name: "badaction", Actions: []string{readApp, "registry/catalog/read"}})
	wantErrorContaining(t, err, http.StatusBadRequest, api.CodeInvalidScopeMapAction, "registry/catalog/read")
	_, err = e.c.CreateScopeMap(e.ctx, reg, api.CreateScopeMapRequest{Name: "noactions"})
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidScopeMapAction,
		`scope map "noactions" needs at least one action, such as repositories/<repository>/content/read`)
	_, err = e.c.UpdateScopeMap(e.ctx, reg, "dup-map", api.UpdateScopeMapRequest{AddActions: []string{"repositories/app/content/fly"}})
	wantErrorContaining(t, err, http.StatusBadRequest, api.CodeInvalidScopeMapAction, "repositories/app/content/fly")
	_, err = e.c.UpdateScopeMap(e.ctx, reg, "dup-map", api.UpdateScopeMapRequest{RemoveActions: []string{writeApp}})
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidScopeMapAction, `scope map "dup-map" has no action "`+writeApp+`" to remove`)
	_, err = e.c.UpdateScopeMap(e.ctx, reg, "dup-map", api.UpdateScopeMapRequest{RemoveActions: []string{readApp}})
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidScopeMapAction,
		`scope map "dup-map" needs at least one action, such as repositories/<repository>/content/read`)
	if m := must(e.c.GetScopeMap(e.ctx, reg, "dup-map"))(t); !slices.Equal(m.Actions, []string{readApp}) {
		t.Errorf("refused updates changed the scope map: %+v", m)
	}

	missing := `scope map "missing1" not found`
	_, err = e.c.GetScopeMap(e.ctx, reg, "missing1")
	wantError(t, err, http.StatusNotFound, api.CodeScopeMapNotFound, missing)
	_, err = e.c.UpdateScopeMap(e.ctx, reg, "missing1", api.UpdateScopeMapRequest{})
	wantError(t, err, http.StatusNotFound, api.CodeScopeMapNotFound, missing)
	wantError(t, e.c.DeleteScopeMap(e.ctx, reg, "missing1"), http.StatusNotFound, api.CodeScopeMapNotFound, missing)
	_, err = e.c.ListScopeMaps(e.ctx, "nosuchreg")
	wantError(t, err, http.StatusNotFound, api.CodeRegistryNotFound, `registry "nosuchreg" not found`)

	must(e.c.CreateToken(e.ctx, reg, api.CreateTokenRequest{Name: "user-one", ScopeMapName: "dup-map", NoPasswords: true}))(t)
	wantError(t, e.c.DeleteScopeMap(e.ctx, reg, "dup-map"), http.StatusConflict, api.CodeScopeMapInUse,
		`scope map "dup-map" is used by token "user-one"; delete the token or give it another scope map first`)
	must(e.c.CreateToken(e.ctx, reg, api.CreateTokenRequest{Name: "user-two", ScopeMapName: "dup-map", NoPasswords: true}))(t)
	wantError(t, e.c.DeleteScopeMap(e.ctx, reg, "dup-map"), http.StatusConflict, api.CodeScopeMapInUse,
		`scope map "dup-map" is used by tokens "user-one", "user-two"; delete them or give them another scope map first`)
	check(t, e.c.DeleteToken(e.ctx, reg, "user-one"))
	must(e.c.UpdateToken(e.ctx, reg, "user-two", api.UpdateTokenRequest{ScopeMapName: new(e.builtIns(t, reg)[0])}))(t)
	check(t, e.c.DeleteScopeMap(e.ctx, reg, "dup-map"))
}

func testTokens(t *testing.T, e *env) {
	const reg = "tokens1"
	e.createRegistry(t, api.CreateRegistryRequest{Name: reg, SKU: "Basic"})
	builtIn := e.builtIns(t, reg)[0]
	must(e.c.CreateScopeMap(e.ctx, reg, api.CreateScopeMapRequest{Name: "app-read", Actions: []string{readApp}}))(t)

	r := e.authed(t, "POST", "/api/v1/registries/tokens1/tokens", `{"name": "ci-token1", "scopeMapName": "`+builtIn+`"}`)
	if r.status != http.StatusCreated || r.header.Get("Location") != "/api/v1/registries/tokens1/tokens/ci-token1" {
		t.Fatalf("create token: %d %s", r.status, r.body)
	}
	tok := must(e.c.CreateToken(e.ctx, reg, api.CreateTokenRequest{Name: "ci-token2", ScopeMapName: "app-read"}))(t)
	if tok.Name != "ci-token2" || tok.ScopeMapName != "app-read" || tok.Status != "enabled" || tok.CreationDate.IsZero() {
		t.Errorf("CreateToken = %+v", tok)
	}
	values := wantValues(t, tok.Credentials, "ci-token2", true, "password1", "password2")
	for _, p := range tok.Credentials.Passwords {
		if !p.Expiry.IsZero() {
			t.Errorf("password %s expires at %v without an expiry asked for", p.Name, p.Expiry)
		}
	}

	got := must(e.c.GetToken(e.ctx, reg, "ci-token2"))(t)
	wantValues(t, got.Credentials, "ci-token2", false, "password1", "password2")
	r = e.authed(t, "GET", "/api/v1/registries/tokens1/tokens/ci-token2", "")
	for _, v := range values {
		if strings.Contains(string(r.body), v) {
			t.Errorf("GET token reveals a password: %s", r.body)
		}
	}
	list := must(e.c.ListTokens(e.ctx, reg))(t)
	if len(list) != 2 || list[0].Name != "ci-token1" || list[1].Name != "ci-token2" || list[1].Credentials.Passwords[0].Value != "" {
		t.Errorf("ListTokens = %+v", list)
	}

	tok = must(e.c.UpdateToken(e.ctx, reg, "ci-token2", api.UpdateTokenRequest{Status: new("Disabled")}))(t)
	if tok.Status != "disabled" || tok.ScopeMapName != "app-read" {
		t.Errorf("disable token: %+v", tok)
	}
	tok = must(e.c.UpdateToken(e.ctx, reg, "ci-token2", api.UpdateTokenRequest{ScopeMapName: new(builtIn)}))(t)
	if tok.Status != "disabled" || tok.ScopeMapName != builtIn {
		t.Errorf("change scope map: %+v", tok)
	}
	if got := must(e.c.GetToken(e.ctx, reg, "ci-token2"))(t); got.Status != "disabled" || got.ScopeMapName != builtIn {
		t.Errorf("after updates GetToken = %+v", got)
	}

	tok = must(e.c.CreateToken(e.ctx, reg, api.CreateTokenRequest{Name: "off-token", ScopeMapName: "app-read", Status: "DISABLED", NoPasswords: true}))(t)
	if tok.Status != "disabled" || len(tok.Credentials.Passwords) != 0 {
		t.Errorf("disabled token without passwords: %+v", tok)
	}
	before := time.Now()
	tok = must(e.c.CreateToken(e.ctx, reg, api.CreateTokenRequest{Name: "month-token", ScopeMapName: "app-read", ExpirationInDays: 30}))(t)
	for _, p := range tok.Credentials.Passwords {
		if days := 30 * 24 * time.Hour; p.Expiry.Before(before.Add(days-time.Second)) || p.Expiry.After(time.Now().Add(days+time.Second)) {
			t.Errorf("password %s expires at %v, not in 30 days", p.Name, p.Expiry)
		}
	}

	check(t, e.c.DeleteToken(e.ctx, reg, "ci-token2"))
	_, err := e.c.GetToken(e.ctx, reg, "ci-token2")
	wantError(t, err, http.StatusNotFound, api.CodeTokenNotFound, `token "ci-token2" not found`)
	wantError(t, e.c.DeleteToken(e.ctx, reg, "ci-token2"), http.StatusNotFound, api.CodeTokenNotFound, `token "ci-token2" not found`)
	tok = must(e.c.CreateToken(e.ctx, reg, api.CreateTokenRequest{Name: "ci-token2", ScopeMapName: "app-read", NoPasswords: true}))(t)
	if len(tok.Credentials.Passwords) != 0 {
		t.Errorf("a token created again kept the passwords of the deleted one: %+v", tok)
	}
}

func testTokenErrors(t *testing.T, e *env) {
	const reg = "tokens2"
	e.createRegistry(t, api.CreateRegistryRequest{Name: reg, SKU: "Basic"})
	builtIns := strings.Join(e.builtIns(t, reg), ", ")
	builtIn := e.builtIns(t, reg)[0]
	create := func(req api.CreateTokenRequest) error {
		_, err := e.c.CreateToken(e.ctx, reg, req)
		return err
	}
	wantError(t, create(api.CreateTokenRequest{Name: "lost-token", ScopeMapName: "nosuchmap"}), http.StatusBadRequest, api.CodeUnknownScopeMap,
		`scope map "nosuchmap" does not exist in registry "tokens2"; create it first or use a built-in one (`+builtIns+`)`)
	wantError(t, create(api.CreateTokenRequest{Name: "lost-token"}), http.StatusBadRequest, api.CodeUnknownScopeMap,
		`scopeMapName is missing; name one of the registry's scope maps or a built-in one (`+builtIns+`)`)
	if _, err := e.c.GetToken(e.ctx, reg, "lost-token"); err == nil {
		t.Error("a refused create left the token")
	}

	const rule = "a token name must be 5 to 50 letters, digits and '-' (^[a-zA-Z0-9-]{5,50}$)"
	long := strings.Repeat("t", 51)
	for _, tc := range []struct{ name, msg string }{
		{"abcd", `invalid token name "abcd": it is 4 characters long; ` + rule},
		{long, `invalid token name "` + long + `": it is 51 characters long; ` + rule},
		{"bad_name", `invalid token name "bad_name": it contains '_'; ` + rule},
		{"", "the token name is missing; " + rule},
	} {
		wantError(t, create(api.CreateTokenRequest{Name: tc.name, ScopeMapName: builtIn}), http.StatusBadRequest, api.CodeInvalidTokenName, tc.msg)
	}
	check(t, create(api.CreateTokenRequest{Name: "dup-token", ScopeMapName: builtIn, NoPasswords: true}))
	wantError(t, create(api.CreateTokenRequest{Name: "dup-token", ScopeMapName: builtIn}), http.StatusConflict, api.CodeTokenAlreadyExists,
		`token "dup-token" already exists`)
	wantError(t, create(api.CreateTokenRequest{Name: "odd-token", ScopeMapName: builtIn, Status: "paused"}), http.StatusBadRequest,
		api.CodeInvalidParameter, `status must be "enabled" or "disabled", not "paused"`)
	wantError(t, create(api.CreateTokenRequest{Name: "odd-token", ScopeMapName: builtIn, ExpirationInDays: 1, Expiry: time.Now().Add(time.Hour)}),
		http.StatusBadRequest, api.CodeInvalidParameter, "give either expiry or expirationInDays, not both")
	wantError(t, create(api.CreateTokenRequest{Name: "odd-token", ScopeMapName: builtIn, ExpirationInDays: 1, NoPasswords: true}),
		http.StatusBadRequest, api.CodeInvalidParameter, "an expiry applies to generated passwords; it cannot go with noPasswords")

	_, err := e.c.UpdateToken(e.ctx, reg, "dup-token", api.UpdateTokenRequest{ScopeMapName: new("nosuchmap")})
	wantError(t, err, http.StatusBadRequest, api.CodeUnknownScopeMap,
		`scope map "nosuchmap" does not exist in registry "tokens2"; create it first or use a built-in one (`+builtIns+`)`)
	_, err = e.c.UpdateToken(e.ctx, reg, "dup-token", api.UpdateTokenRequest{Status: new("")})
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidParameter, `status must be "enabled" or "disabled", not empty`)
	_, err = e.c.UpdateToken(e.ctx, reg, "nosuchtoken", api.UpdateTokenRequest{})
	wantError(t, err, http.StatusNotFound, api.CodeTokenNotFound, `token "nosuchtoken" not found`)
	_, err = e.c.ListTokens(e.ctx, "nosuchreg")
	wantError(t, err, http.StatusNotFound, api.CodeRegistryNotFound, `registry "nosuchreg" not found`)
	if tok := must(e.c.GetToken(e.ctx, reg, "dup-token"))(t); tok.Status != "enabled" || tok.ScopeMapName != builtIn {
		t.Errorf("refused updates changed the token: %+v", tok)
	}
}
