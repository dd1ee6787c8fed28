package auth

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"berth/internal/berth"
)

func TestAuthorizeBasic(t *testing.T) {
	f := newFixture(t, Config{})
	tests := []struct {
		name     string
		authz    string
		need     []berth.Access
		want     berth.Kind
		msg      string
		wantKind berth.PrincipalKind
	}{
		{"admin push", basic("contoso", adminPassword), []berth.Access{repo("a/b", "pull", "push")}, noError, "", berth.PrincipalAdmin},
		{"admin catalog", basic("contoso", adminPassword), []berth.Access{catalog()}, noError, "", berth.PrincipalAdmin},
		{"admin base endpoint", basic("contoso", adminPassword), nil, noError, "", berth.PrincipalAdmin},
		{"admin wrong password", basic("contoso", "nope"), nil, berth.KindUnauthorized, `password does not match for user "contoso"`, ""},
		{"token pull", basic("ci", tokenPassword), []berth.Access{repo("a/b", "pull")}, noError, "", berth.PrincipalToken},
		{"token pull-only denied push", basic("ci", tokenPassword), []berth.Access{repo("a/b", "pull", "push")}, berth.KindDenied,
			`token "ci" may not push to repository "a/b": its scope map "pullonly" grants content/read`, ""},
		{"token built-in push map", basic("pusher", tokenPassword), []berth.Access{repo("x", "pull", "push")}, noError, "", berth.PrincipalToken},
		{"token built-in push map no delete", basic("pusher", tokenPassword), []berth.Access{repo("x", "delete")}, berth.KindDenied,
			`token "pusher" may not delete from repository "x": its scope map "_repositories_push" grants content/read, content/write`, ""},
		{"token prefix map", basic("team", tokenPassword), []berth.Access{repo("team/app", "pull", "metadata_read")}, noError, "", berth.PrincipalToken},
		{"token prefix map outside", basic("team", tokenPassword), []berth.Access{repo("other", "pull")}, berth.KindDenied,
			`token "team" may not pull from repository "other": its scope map "team" grants nothing on it`, ""},
		{"token exact name map", basic("team", tokenPassword), []berth.Access{repo("shared/app", "push")}, noError, "", berth.PrincipalToken},
		{"token exact name is not a prefix", basic("team", tokenPassword), []berth.Access{repo("shared/app2", "push")}, berth.KindDenied, `may not push to repository "shared/app2"`, ""},
		{"token catalog with metadata/read", basic("team", tokenPassword), []berth.Access{catalog()}, noError, "", berth.PrincipalToken},
		{"token catalog without metadata/read", basic("ci", tokenPassword), []berth.Access{catalog()}, berth.KindDenied,
			`token "ci" may not list the catalog: its scope map "pullonly" grants metadata/read on no repository`, ""},
		{"token wrong password", basic("ci", "nope"), nil, berth.KindUnauthorized, `password does not match for user "ci"`, ""},
		{"token disabled", basic("off", tokenPassword), nil, berth.KindUnauthorized, `token "off" is disabled`, ""},
		{"token expired password", basic("old", tokenPassword), nil, berth.KindUnauthorized, `every password of user "old" has expired`, ""},
		{"token without password", basic("nopw", ""), nil, berth.KindUnauthorized, `user "nopw" has no password`, ""},
		{"unknown user", basic("ghost", "x"), nil, berth.KindUnauthorized, `user "ghost" does not exist in registry "contoso"`, ""},
		{"empty user", basic("", "x"), nil, berth.KindUnauthorized, "no user name", ""},
		{"refresh user with garbage", basic(RefreshTokenUser, "garbage"), nil, berth.KindUnauthorized, "refresh token is malformed", ""},
		{"malformed basic", "Basic !!!", nil, berth.KindUnauthorized, "malformed Basic credentials", ""},
		{"other scheme", "Digest abc", nil, berth.KindUnauthorized, "neither Basic nor Bearer", ""},
		{"case-insensitive scheme", "basic " + strings.TrimPrefix(basic("ci", tokenPassword), "Basic "), []berth.Access{repo("a", "pull")}, noError, "", berth.PrincipalToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.svc.Authorize(request(tt.authz), f.reg, tt.need)
			checkErr(t, err, tt.want, tt.msg)
			if tt.want == noError && (p.Kind != tt.wantKind || p.Registry != "contoso") {
				t.Errorf("principal = %+v, want kind %s of contoso", p, tt.wantKind)
			}
		})
	}
}

func TestAuthorizeAdminDisabled(t *testing.T) {
	f := newFixture(t, Config{})
	f.reg.AdminUserEnabled = false
	_, err := f.svc.Authorize(request(basic("contoso", adminPassword)), f.reg, nil)
	checkErr(t, err, berth.KindUnauthorized, `the admin user of registry "contoso" is disabled`)
}

func TestAuthorizeAnonymous(t *testing.T) {
	tests := []struct {
		name string
		on   bool
		need []berth.Access
		want berth.Kind
		msg  string
	}{
		{"pull allowed", true, []berth.Access{repo("a/b", "pull")}, noError, ""},
		{"metadata_read allowed", true, []berth.Access{repo("a/b", "pull", "metadata_read")}, noError, ""},
		{"push refused", true, []berth.Access{repo("a/b", "pull", "push")}, berth.KindUnauthorized,
			`anonymous access may not push to repository "a/b": registry "contoso" allows anonymous pull only`},
		{"catalog refused", true, []berth.Access{catalog()}, berth.KindUnauthorized, "anonymous access may not list the catalog"},
		{"base endpoint needs credentials", true, nil, berth.KindUnauthorized, "no credentials"},
		{"pull when off", false, []berth.Access{repo("a/b", "pull")}, berth.KindUnauthorized,
			`no credentials, and registry "contoso" does not allow anonymous pull`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{})
			f.setAnonymousPull(tt.on)
			p, err := f.svc.Authorize(request(""), f.reg, tt.need)
			checkErr(t, err, tt.want, tt.msg)
			if tt.want == noError && p.Kind != berth.PrincipalAnonymous {
				t.Errorf("principal = %+v, want anonymous", p)
			}
		})
	}
}

// tamper replaces the payload of a JWT, keeping header and signature.
func tamper(t *testing.T, tok string, edit func(string) string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(edit(string(payload))))
	return strings.Join(parts, ".")
}

func TestAuthorizeBearer(t *testing.T) {
	f := newFixture(t, Config{AccessTTL: 10 * time.Minute})
	admin := f.accessToken(t, "contoso", adminPassword, "repository:a/b:pull,push", "registry:catalog:*")
	ci := f.accessToken(t, "ci", tokenPassword, "repository:a/b:pull,push")
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	parts := strings.Split(admin, ".")
	algNone := noneHeader + "." + parts[1] + "."
	hsHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","kid":"x"}`))
	algHS := hsHeader + "." + parts[1] + "." + parts[2]

	other := newFixture(t, Config{})
	foreignKey := other.accessToken(t, "contoso", adminPassword, "repository:a/b:pull")
	fabrikam := func() string {
		reg := berth.Registry{Name: "fabrikam", Settings: berth.Settings{AdminUserEnabled: true}}
		sub, err := f.svc.authenticate(context.Background(), reg, "fabrikam", adminPassword)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := f.svc.issue(context.Background(), reg, sub, []berth.Access{repo("a/b", "pull")}, false)
		if err != nil {
			t.Fatal(err)
		}
		return resp.AccessToken
	}()
	refresh, err := f.svc.refreshToken(context.Background(), f.reg, berth.Principal{Kind: berth.PrincipalAdmin, Name: "contoso", Registry: "contoso"})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
		need  []berth.Access
		want  berth.Kind
		msg   string
	}{
		{"admin push", admin, []berth.Access{repo("a/b", "push")}, noError, ""},
		{"admin catalog", admin, []berth.Access{catalog()}, noError, ""},
		{"base endpoint", admin, nil, noError, ""},
		{"action never asked for", admin, []berth.Access{repo("a/b", "delete")}, berth.KindUnauthorized, "access token does not grant repository:a/b:delete"},
		{"repository never asked for", admin, []berth.Access{repo("c", "pull")}, berth.KindUnauthorized, "access token does not grant repository:c:pull"},
		{"token pull", ci, []berth.Access{repo("a/b", "pull")}, noError, ""},
		{"token push refused at issue", ci, []berth.Access{repo("a/b", "push")}, berth.KindDenied,
			`token "ci" may not push to repository "a/b": its scope map "pullonly" grants content/read`},
		{"tampered payload", tamper(t, admin, func(p string) string { return strings.Replace(p, `"pull","push"`, `"pull","push","delete"`, 1) }),
			[]berth.Access{repo("a/b", "delete")}, berth.KindUnauthorized, "access token has an invalid signature"},
		{"tampered principal", tamper(t, ci, func(p string) string {
			return strings.Replace(p, `"principal_kind":"token"`, `"principal_kind":"admin"`, 1)
		}),
			[]berth.Access{repo("a/b", "pull")}, berth.KindUnauthorized, "access token has an invalid signature"},
		{"alg none", algNone, []berth.Access{repo("a/b", "pull")}, berth.KindUnauthorized, `access token is signed with "none"; only ES256 is accepted`},
		{"alg HS256", algHS, []berth.Access{repo("a/b", "pull")}, berth.KindUnauthorized, `access token is signed with "HS256"; only ES256 is accepted`},
		{"wrong audience", fabrikam, []berth.Access{repo("a/b", "pull")}, berth.KindUnauthorized,
			`access token is for login server "fabrikam.example.com", not "contoso.example.com"`},
		{"unknown key", foreignKey, []berth.Access{repo("a/b", "pull")}, berth.KindUnauthorized, "access token is signed by unknown or retired key"},
		{"refresh token as access token", refresh, nil, berth.KindUnauthorized, "access token is required, but this is a refresh token"},
		{"garbage", "not-a-jwt", nil, berth.KindUnauthorized, "access token is malformed"},
		{"empty", "", nil, berth.KindUnauthorized, "access token is malformed"},
		{"three dots", "a.b.c", nil, berth.KindUnauthorized, "access token is malformed"},
		{"too long", strings.Repeat("a", maxTokenLen+1), nil, berth.KindUnauthorized, "access token is longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.store.calls.Load()
			_, err := f.svc.Authorize(request("Bearer "+tt.token), f.reg, tt.need)
			checkErr(t, err, tt.want, tt.msg)
			if n := f.store.calls.Load() - before; n != 0 {
				t.Errorf("bearer verification read the metadata store %d times", n)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		f.clock.Advance(10*time.Minute - time.Second)
		if _, err := f.svc.Authorize(request("Bearer "+admin), f.reg, []berth.Access{repo("a/b", "pull")}); err != nil {
			t.Fatalf("a second before expiry: %v", err)
		}
		f.clock.Advance(time.Second)
		_, err := f.svc.Authorize(request("Bearer "+admin), f.reg, []berth.Access{repo("a/b", "pull")})
		checkErr(t, err, berth.KindUnauthorized, "access token expired at")
	})
}

func TestAuthorizeBearerAnonymous(t *testing.T) {
	f := newFixture(t, Config{})
	f.setAnonymousPull(true)
	resp, err := f.svc.issue(context.Background(), f.reg, anonymousSubject(f.reg), []berth.Access{repo("a/b", "pull", "push")}, true)
	if err != nil {
		t.Fatal(err)
	}
	if resp.RefreshToken != "" {
		t.Error("an anonymous caller got a refresh token")
	}
	p, err := f.svc.Authorize(request("Bearer "+resp.AccessToken), f.reg, []berth.Access{repo("a/b", "pull")})
	if err != nil || p.Kind != berth.PrincipalAnonymous {
		t.Fatalf("pull: %+v, %v", p, err)
	}
	_, err = f.svc.Authorize(request("Bearer "+resp.AccessToken), f.reg, []berth.Access{repo("a/b", "push")})
	checkErr(t, err, berth.KindUnauthorized, `anonymous access may not push to repository "a/b"`)
}

func TestRefreshTokenBasic(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	token := berth.Principal{Kind: berth.PrincipalToken, Name: "ci", Registry: "contoso"}
	operator := berth.Principal{Kind: berth.PrincipalOperator, Name: OperatorName, Registry: "contoso"}
	rtToken, err := f.svc.refreshToken(ctx, f.reg, token)
	if err != nil {
		t.Fatal(err)
	}
	rtOperator, err := f.svc.refreshToken(ctx, f.reg, operator)
	if err != nil {
		t.Fatal(err)
	}
	access := f.accessToken(t, "contoso", adminPassword)

	p, err := f.svc.Authorize(request(basic(RefreshTokenUser, rtOperator)), f.reg, []berth.Access{repo("a", "delete"), catalog()})
	if err != nil || p != operator {
		t.Fatalf("operator refresh token: %+v, %v", p, err)
	}
	p, err = f.svc.Authorize(request(basic(RefreshTokenUser, rtToken)), f.reg, []berth.Access{repo("a", "pull")})
	if err != nil || p != token {
		t.Fatalf("token refresh token: %+v, %v", p, err)
	}
	_, err = f.svc.Authorize(request(basic(RefreshTokenUser, rtToken)), f.reg, []berth.Access{repo("a", "push")})
	checkErr(t, err, berth.KindDenied, `token "ci" may not push to repository "a"`)
	_, err = f.svc.Authorize(request(basic(RefreshTokenUser, access)), f.reg, nil)
	checkErr(t, err, berth.KindUnauthorized, "refresh token is required, but this is an access token")

	f.store.setToken(berth.Token{Registry: "contoso", Name: "ci", ScopeMap: "pullonly", Enabled: false})
	_, err = f.svc.Authorize(request(basic(RefreshTokenUser, rtToken)), f.reg, nil)
	checkErr(t, err, berth.KindUnauthorized, `token "ci" is disabled`)

	f.clock.Advance(DefaultRefreshTTL)
	_, err = f.svc.Authorize(request(basic(RefreshTokenUser, rtOperator)), f.reg, nil)
	checkErr(t, err, berth.KindUnauthorized, "refresh token expired")
}

func TestBasicCache(t *testing.T) {
	f := newFixture(t, Config{BasicCacheTTL: time.Minute})
	need := []berth.Access{repo("a", "pull")}
	authorize := func(user, pw string) error {
		_, err := f.svc.Authorize(request(basic(user, pw)), f.reg, need)
		return err
	}
	steps := []struct {
		name    string
		do      func()
		user    string
		pw      string
		want    berth.Kind
		bcrypts int64 // total calls after the step
	}{
		{"first check runs bcrypt", nil, "ci", tokenPassword, noError, 1},
		{"second is cached", nil, "ci", tokenPassword, noError, 1},
		{"third is cached", nil, "ci", tokenPassword, noError, 1},
		{"another user is not", nil, "contoso", adminPassword, noError, 2},
		{"a wrong password is never cached", nil, "ci", "wrong", berth.KindUnauthorized, 3},
		{"and runs bcrypt again", nil, "ci", "wrong", berth.KindUnauthorized, 4},
		{"entry expires", func() { f.clock.Advance(time.Minute) }, "ci", tokenPassword, noError, 5},
		{"cached again", nil, "ci", tokenPassword, noError, 5},
		{"a replaced secret does not match the cached password", func() {
			h, _ := HashPassword("new-password")
			f.store.setSecrets("contoso", berth.TokenOwner("ci"), berth.Secret{Name: "password1", Hash: h})
		}, "ci", tokenPassword, berth.KindUnauthorized, 6},
		{"a deleted secret does not match", func() { f.store.setSecrets("contoso", berth.TokenOwner("ci")) }, "ci", tokenPassword, berth.KindUnauthorized, 6},
		{"a disabled token is refused before the cache", func() {
			f.store.setToken(berth.Token{Registry: "contoso", Name: "pusher", ScopeMap: ScopeMapPush, Enabled: false})
		}, "pusher", tokenPassword, berth.KindUnauthorized, 6},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.do != nil {
				st.do()
			}
			checkErr(t, authorize(st.user, st.pw), st.want, "")
			if got := f.bcrypts.Load(); got != st.bcrypts {
				t.Errorf("bcrypt calls = %d, want %d", got, st.bcrypts)
			}
		})
	}
}

func TestBasicCacheBounded(t *testing.T) {
	c := &basicCache{ttl: time.Minute, max: 3, m: map[[32]byte]time.Time{}}
	now := time.Unix(0, 0)
	for i := range 10 {
		c.put([32]byte{byte(i)}, now)
		if len(c.m) > 3 {
			t.Fatalf("cache holds %d entries, more than 3", len(c.m))
		}
	}
	if !c.ok([32]byte{9}, now) {
		t.Error("the newest entry is gone")
	}
	if c.ok([32]byte{9}, now.Add(time.Minute)) {
		t.Error("an expired entry still matches")
	}
}

func TestGrantsOfPrincipal(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	tests := []struct {
		name    string
		p       berth.Principal
		anon    bool
		repo    string
		action  string
		allowed bool
		catalog bool
	}{
		{"admin", berth.Principal{Kind: berth.PrincipalAdmin, Name: "contoso", Registry: "contoso"}, false, "x", "delete", true, true},
		{"operator", berth.Principal{Kind: berth.PrincipalOperator, Name: OperatorName, Registry: "contoso"}, false, "x", "metadata_write", true, true},
		{"team reads team/*", berth.Principal{Kind: berth.PrincipalToken, Name: "team", Registry: "contoso"}, false, "team/a", "metadata_read", true, true},
		{"team does not read other", berth.Principal{Kind: berth.PrincipalToken, Name: "team", Registry: "contoso"}, false, "other", "metadata_read", false, true},
		{"anonymous with pull", berth.Principal{Kind: berth.PrincipalAnonymous, Registry: "contoso"}, true, "x", "pull", true, false},
		{"anonymous without pull", berth.Principal{Kind: berth.PrincipalAnonymous, Registry: "contoso"}, false, "x", "pull", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.setAnonymousPull(tt.anon)
			g, err := f.svc.Grants(ctx, f.reg, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if g.Allows(tt.repo, tt.action) != tt.allowed || g.AllowsCatalog() != tt.catalog {
				t.Errorf("Allows(%q, %q) = %v, AllowsCatalog = %v; want %v, %v", tt.repo, tt.action, g.Allows(tt.repo, tt.action), g.AllowsCatalog(), tt.allowed, tt.catalog)
			}
		})
	}
	_, err := f.svc.Grants(ctx, f.reg, berth.Principal{Kind: berth.PrincipalToken, Name: "off", Registry: "contoso"})
	checkErr(t, err, berth.KindUnauthorized, `token "off" is disabled`)
}

func TestStoreFailureKeepsKind(t *testing.T) {
	f := newFixture(t, Config{})
	f.store.fail = berth.E("fake", berth.KindUnavailable, "database is down")
	_, err := f.svc.Authorize(request(basic("ci", tokenPassword)), f.reg, nil)
	checkErr(t, err, berth.KindUnavailable, "database is down")
}

func TestAccessTokenSizeBounded(t *testing.T) {
	f := newFixture(t, Config{})
	var scopes []string
	for i := range maxScopes {
		scopes = append(scopes, fmt.Sprintf("repository:some/long/repository-name-%03d:pull,push,delete,metadata_read,metadata_write", i))
	}
	tok := f.accessToken(t, "ci", tokenPassword, strings.Join(scopes, " "))
	if len(tok) > 16<<10 {
		t.Fatalf("an access token for %d scopes is %d bytes", maxScopes, len(tok))
	}
	_, err := f.svc.Authorize(request("Bearer "+tok), f.reg, []berth.Access{repo("some/long/repository-name-099", "pull")})
	checkErr(t, err, noError, "")
	_, err = f.svc.Authorize(request("Bearer "+tok), f.reg, []berth.Access{repo("some/long/repository-name-000", "push")})
	checkErr(t, err, berth.KindDenied, `token "ci" may not push`)
}
