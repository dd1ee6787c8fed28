package mgmttest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"berth/internal/mgmt/api"
)

// wantValues checks that creds are for user and hold exactly the named
// passwords, each with a value (when values) or without one, and returns
// the values by name.
func wantValues(t *testing.T, creds api.Credentials, user string, values bool, names ...string) map[string]string {
	t.Helper()
	if creds.Username != user {
		t.Errorf("username = %q, want %q", creds.Username, user)
	}
	if len(creds.Passwords) != len(names) {
		t.Fatalf("passwords = %+v, want %v", creds.Passwords, names)
	}
	out := map[string]string{}
	for i, p := range creds.Passwords {
		if p.Name != names[i] {
			t.Errorf("password %d is %q, want %q", i, p.Name, names[i])
		}
		if p.CreationTime.IsZero() {
			t.Errorf("password %q has no creation time", p.Name)
		}
		if values == (p.Value == "") {
			t.Errorf("password %q has value %q; want a value: %v", p.Name, p.Value, values)
		}
		out[p.Name] = p.Value
	}
	if values && len(out) == 2 && out[names[0]] == out[names[1]] {
		t.Errorf("both passwords are %q", out[names[0]])
	}
	return out
}

func testAdminCredentials(t *testing.T, e *env) {
	const name = "adminreg"
	reg := e.createRegistry(t, api.CreateRegistryRequest{Name: name, SKU: "Basic", AdminUserEnabled: true})
	if reg.Credentials == nil || !reg.AdminUserEnabled {
		t.Fatalf("create with admin user: %+v", reg)
	}
	first := wantValues(t, *reg.Credentials, name, true, "password", "password2")

	r := e.authed(t, "GET", "/api/v1/registries/"+name, "")
	if strings.Contains(string(r.body), "credentials") || strings.Contains(string(r.body), first["password"]) {
		t.Errorf("GET shows credentials: %s", r.body)
	}
	r = e.authed(t, "GET", "/api/v1/registries/"+name+"/credentials", "")
	for _, v := range first {
		if strings.Contains(string(r.body), v) || strings.Contains(string(r.body), `"value"`) {
			t.Errorf("show credentials reveals a password: %s", r.body)
		}
	}
	wantValues(t, must(e.c.ShowCredentials(e.ctx, name))(t), name, false, "password", "password2")

	renewed := wantValues(t, must(e.c.RenewCredential(e.ctx, name, "password2"))(t), name, true, "password2")
	if renewed["password2"] == first["password2"] {
		t.Error("renew returned the old password2")
	}
	_, err := e.c.RenewCredential(e.ctx, name, "password3")
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidParameter, `passwordName must be "password" or "password2", not "password3"`)

	reg = must(e.c.UpdateRegistry(e.ctx, name, api.UpdateRegistryRequest{AdminUserEnabled: new(true)}))(t)
	if reg.Credentials != nil {
		t.Errorf("an update that left the admin user on generated passwords: %+v", reg.Credentials)
	}

	reg = must(e.c.UpdateRegistry(e.ctx, name, api.UpdateRegistryRequest{AdminUserEnabled: new(false)}))(t)
	if reg.AdminUserEnabled || reg.Credentials != nil {
		t.Errorf("disable admin user: %+v", reg)
	}
	disabled := `the admin user of registry "adminreg" is disabled; enable it first by setting adminUserEnabled to true`
	_, err = e.c.ShowCredentials(e.ctx, name)
	wantError(t, err, http.StatusBadRequest, api.CodeAdminUserDisabled, disabled)
	_, err = e.c.RenewCredential(e.ctx, name, "password")
	wantError(t, err, http.StatusBadRequest, api.CodeAdminUserDisabled, disabled)

	reg = must(e.c.UpdateRegistry(e.ctx, name, api.UpdateRegistryRequest{AdminUserEnabled: new(true)}))(t)
	if reg.Credentials == nil {
		t.Fatal("enabling the admin user returned no passwords")
	}
	again := wantValues(t, *reg.Credentials, name, true, "password", "password2")
	if again["password"] == first["password"] {
		t.Error("re-enabling the admin user kept the old password")
	}
	wantValues(t, must(e.c.ShowCredentials(e.ctx, name))(t), name, false, "password", "password2")

	if reg := e.createRegistry(t, api.CreateRegistryRequest{Name: "noadmin", SKU: "Basic"}); reg.Credentials != nil {
		t.Errorf("create without admin user returned credentials: %+v", reg.Credentials)
	}
	_, err = e.c.ShowCredentials(e.ctx, "nosuchreg")
	wantError(t, err, http.StatusNotFound, api.CodeRegistryNotFound, `registry "nosuchreg" not found`)
}

func testTokenPasswords(t *testing.T, e *env) {
	const reg, tok = "tokpw", "deploy-token"
	e.createRegistry(t, api.CreateRegistryRequest{Name: reg, SKU: "Basic"})
	builtIn := e.builtIns(t, reg)[0]
	created := must(e.c.CreateToken(e.ctx, reg, api.CreateTokenRequest{Name: tok, ScopeMapName: builtIn, NoPasswords: true}))(t)
	wantValues(t, created.Credentials, tok, true)

	before := time.Now()
	creds := must(e.c.GenerateTokenPassword(e.ctx, reg, tok, api.GeneratePasswordRequest{PasswordName: "password1", ExpirationInDays: 7}))(t)
	first := wantValues(t, creds, tok, true, "password1")
	week := 7 * 24 * time.Hour
	if exp := creds.Passwords[0].Expiry; exp.Before(before.Add(week-time.Second)) || exp.After(time.Now().Add(week+time.Second)) {
		t.Errorf("expiry %v is not 7 days from now", exp)
	}
	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	creds = must(e.c.GenerateTokenPassword(e.ctx, reg, tok, api.GeneratePasswordRequest{PasswordName: "password2", Expiry: at}))(t)
	wantValues(t, creds, tok, true, "password2")
	if !creds.Passwords[0].Expiry.Equal(at) {
		t.Errorf("expiry = %v, want %v", creds.Passwords[0].Expiry, at)
	}
	got := must(e.c.GetToken(e.ctx, reg, tok))(t)
	wantValues(t, got.Credentials, tok, false, "password1", "password2")
	if !got.Credentials.Passwords[1].Expiry.Equal(at) {
		t.Errorf("stored expiry = %v, want %v", got.Credentials.Passwords[1].Expiry, at)
	}
	again := wantValues(t, must(e.c.GenerateTokenPassword(e.ctx, reg, tok, api.GeneratePasswordRequest{PasswordName: "password1"}))(t),
		tok, true, "password1")
	if again["password1"] == first["password1"] {
		t.Error("generate returned the old password1")
	}

	for _, tc := range []struct {
		req api.GeneratePasswordRequest
		msg string
	}{
		{api.GeneratePasswordRequest{PasswordName: "password3"}, `passwordName must be "password1" or "password2", not "password3"`},
		{api.GeneratePasswordRequest{PasswordName: "password1", Expiry: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)},
			"expiry 2001-01-01T00:00:00Z is not in the future"},
		{api.GeneratePasswordRequest{PasswordName: "password1", ExpirationInDays: -1}, "expirationInDays must be a positive number of days, not -1"},
		{api.GeneratePasswordRequest{PasswordName: "password1", ExpirationInDays: 1, Expiry: at}, "give either expiry or expirationInDays, not both"},
	} {
		_, err := e.c.GenerateTokenPassword(e.ctx, reg, tok, tc.req)
		wantError(t, err, http.StatusBadRequest, api.CodeInvalidParameter, tc.msg)
	}
	r := e.authed(t, "POST", "/api/v1/registries/tokpw/tokens/deploy-token/credentials/generate",
		`{"passwordName": "password1", "expiry": "tomorrow"}`)
	wantRawError(t, r, http.StatusBadRequest, api.CodeInvalidParameter, `"tomorrow" is not an RFC 3339 time such as 2030-01-31T00:00:00Z`)

	check(t, e.c.DeleteTokenPassword(e.ctx, reg, tok, "password2"))
	wantValues(t, must(e.c.GetToken(e.ctx, reg, tok))(t).Credentials, tok, false, "password1")
	wantError(t, e.c.DeleteTokenPassword(e.ctx, reg, tok, "password2"), http.StatusNotFound, api.CodePasswordNotFound,
		`password "password2" not found`)
	wantError(t, e.c.DeleteTokenPassword(e.ctx, reg, tok, "secret"), http.StatusBadRequest, api.CodeInvalidParameter,
		`passwordName must be "password1" or "password2", not "secret"`)
	_, err := e.c.GenerateTokenPassword(e.ctx, reg, "no-such-token", api.GeneratePasswordRequest{PasswordName: "password1"})
	wantError(t, err, http.StatusNotFound, api.CodeTokenNotFound, `token "no-such-token" not found`)
	wantError(t, e.c.DeleteTokenPassword(e.ctx, reg, "no-such-token", "password1"), http.StatusNotFound, api.CodeTokenNotFound,
		`token "no-such-token" not found`)
}
