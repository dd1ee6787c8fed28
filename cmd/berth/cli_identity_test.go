package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"berth/internal/mgmt/api"
)

func testScopeMapCommands(t *testing.T, e *cliEnv) {
	const reg = "scopes1"
	e.createRegistry(t, reg, "Basic")
	var m api.ScopeMap
	e.okJSON(t, &m, "scope-map", "create", "-r", reg, "-n", "ci-push", "--description", "CI pushes",
		"--repository", "team/app", "content/read", "content/write", "--repository", "team/web*", "content/read")
	want := []string{"repositories/team/app/content/read", "repositories/team/app/content/write", "repositories/team/web*/content/read"}
	if m.Name != "ci-push" || m.Description != "CI pushes" || m.Type != api.ScopeMapUserDefined || !sameSet(m.Actions, want) {
		t.Errorf("create = %+v", m)
	}

	e.okJSON(t, &m, "scope-map", "update", "-r", reg, "-n", "ci-push", "--add-repository", "team/db", "metadata/read",
		"--remove-repository", "team/app", "content/write", "--description", "")
	want = []string{"repositories/team/app/content/read", "repositories/team/web*/content/read", "repositories/team/db/metadata/read"}
	if m.Description != "" || !sameSet(m.Actions, want) {
		t.Errorf("update = %+v", m)
	}
	e.okJSON(t, &m, "scope-map", "show", "-r", reg, "-n", "ci-push")
	if !sameSet(m.Actions, want) {
		t.Errorf("show = %+v", m)
	}

	var list []api.ScopeMap
	e.okJSON(t, &list, "scope-map", "list", "-r", reg)
	if len(list) < 2 || list[len(list)-1].Name != "ci-push" || list[0].Type != api.ScopeMapSystemDefined {
		t.Errorf("list = %+v", list)
	}
	out := e.ok(t, "scope-map", "list", "-r", reg, "-o", "table")
	if !strings.HasPrefix(out, "NAME ") || !strings.Contains(out, "\nci-push ") || !strings.Contains(out, "UserDefined") {
		t.Errorf("list table:\n%s", out)
	}
	out = e.ok(t, "scope-map", "list", "-r", reg, "-o", "tsv", "--query", "[?type=='UserDefined'].[name, description]")
	if out != "ci-push\t\n" {
		t.Errorf("list tsv with query = %q", out)
	}

	e.fails(t, `scope-map create: unexpected argument "content/read"; actions follow their repository, as in --repository team/app content/read`,
		"scope-map", "create", "-r", reg, "-n", "badorder", "content/read", "--repository", "team/app")
	e.fails(t, "scope-map create: --repository team/app needs at least one action, such as content/read",
		"scope-map", "create", "-r", reg, "-n", "noacts", "--repository", "team/app", "--repository", "team/web", "content/read")
	e.fails(t, "scope-map create: give at least one --repository REPO ACTION [ACTION...]",
		"scope-map", "create", "-r", reg, "-n", "noacts")
	e.fails(t, "scope-map update: nothing to change; give --add-repository, --remove-repository or --description",
		"scope-map", "update", "-r", reg, "-n", "ci-push")
	e.fails(t, `scope-map create: scope map "ci-push" already exists`,
		"scope-map", "create", "-r", reg, "-n", "ci-push", "--repository", "a", "content/read")
	e.fails(t, `scope-map show: scope map "missing1" not found`, "scope-map", "show", "-r", reg, "-n", "missing1")
	_, _, err := e.run(t, "scope-map", "create", "-r", reg, "-n", "badverb", "--repository", "team/app", "content/fly")
	if err == nil || !strings.HasPrefix(err.Error(), "scope-map create: ") || !strings.Contains(err.Error(), "repositories/team/app/content/fly") {
		t.Errorf("unknown action: %v", err)
	}

	e.ok(t, "scope-map", "delete", "-r", reg, "-n", "ci-push", "-y")
	e.fails(t, `scope-map delete: scope map "ci-push" not found`, "scope-map", "delete", "-r", reg, "-n", "ci-push", "-y")
}

// sameSet reports whether a and b hold the same strings in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b)
}

func testTokenCommands(t *testing.T, e *cliEnv) {
	const reg = "tokens1"
	e.createRegistry(t, reg, "Basic")
	e.ok(t, "scope-map", "create", "-r", reg, "-n", "app-read", "--repository", "team/app", "content/read")

	var tok api.Token
	e.okJSON(t, &tok, "token", "create", "-r", reg, "-n", "ci-bot", "--scope-map", "app-read")
	if tok.Name != "ci-bot" || tok.ScopeMapName != "app-read" || tok.Status != api.TokenEnabled || len(tok.Credentials.Passwords) != 2 ||
		tok.Credentials.Passwords[0].Value == "" {
		t.Errorf("create = %+v", tok)
	}
	out := e.ok(t, "token", "create", "-r", reg, "-n", "ci-bot2", "--scope-map", "app-read", "-o", "table")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "NAME SCOPE MAP STATUS CREATION DATE PASSWORD1 PASSWORD2" ||
		len(strings.Fields(lines[2])) != 6 {
		t.Errorf("create as a table shows the passwords:\n%s", out)
	}

	e.okJSON(t, &tok, "token", "create", "-r", reg, "-n", "no-pass", "--scope-map", "app-read", "--no-passwords", "--status", "disabled")
	if tok.Status != api.TokenDisabled || len(tok.Credentials.Passwords) != 0 {
		t.Errorf("create without passwords = %+v", tok)
	}
	before := time.Now()
	e.okJSON(t, &tok, "token", "create", "-r", reg, "-n", "month-bot", "--scope-map", "app-read", "--expiration-in-days", "30")
	for _, p := range tok.Credentials.Passwords {
		if p.Expiry.Before(before.Add(30*24*time.Hour-time.Minute)) || p.Expiry.After(time.Now().Add(30*24*time.Hour+time.Minute)) {
			t.Errorf("password %s expires at %v, not in 30 days", p.Name, p.Expiry)
		}
	}

	e.fails(t, `token create: scope map "nosuchmap" does not exist in registry "tokens1"; create it first or use a built-in one (`+
		strings.Join(builtInScopeMaps(t, e, reg), ", ")+`)`,
		"token", "create", "-r", reg, "-n", "lost-bot", "--scope-map", "nosuchmap")
	e.fails(t, `token create: --expiration "tomorrow" is not a time such as 2030-01-31T00:00:00Z`,
		"token", "create", "-r", reg, "-n", "lost-bot", "--scope-map", "app-read", "--expiration", "tomorrow")

	e.okJSON(t, &tok, "token", "update", "-r", reg, "-n", "ci-bot", "--status", "disabled")
	if tok.Status != api.TokenDisabled || tok.ScopeMapName != "app-read" {
		t.Errorf("update = %+v", tok)
	}
	e.fails(t, "token update: nothing to change; give --scope-map or --status", "token", "update", "-r", reg, "-n", "ci-bot")
	e.okJSON(t, &tok, "token", "show", "-r", reg, "-n", "ci-bot")
	if tok.Status != api.TokenDisabled || len(tok.Credentials.Passwords) != 2 || tok.Credentials.Passwords[0].Value != "" {
		t.Errorf("show = %+v", tok)
	}
	var toks []api.Token
	e.okJSON(t, &toks, "token", "list", "-r", reg)
	if len(toks) != 4 {
		t.Errorf("list = %+v", toks)
	}
	out = e.ok(t, "token", "list", "-r", reg, "-o", "tsv", "--query", "[].[name, status]")
	if out != "ci-bot\tdisabled\nci-bot2\tenabled\nmonth-bot\tenabled\nno-pass\tdisabled\n" {
		t.Errorf("list as tsv = %q", out)
	}

	var creds api.Credentials
	e.okJSON(t, &creds, "token", "credential", "generate", "-r", reg, "-n", "no-pass", "--password2", "--expiration-in-days", "7")
	if creds.Username != "no-pass" || len(creds.Passwords) != 1 || creds.Passwords[0].Name != "password2" ||
		creds.Passwords[0].Value == "" || creds.Passwords[0].Expiry.IsZero() {
		t.Errorf("generate password2 = %+v", creds)
	}
	e.okJSON(t, &creds, "token", "credential", "generate", "-r", reg, "-n", "no-pass")
	if len(creds.Passwords) != 2 || creds.Passwords[0].Name != "password1" || creds.Passwords[1].Value == "" {
		t.Errorf("generate both = %+v", creds)
	}
	e.ok(t, "token", "credential", "delete", "-r", reg, "-n", "no-pass", "--password1")
	e.okJSON(t, &tok, "token", "show", "-r", reg, "-n", "no-pass")
	if len(tok.Credentials.Passwords) != 1 || tok.Credentials.Passwords[0].Name != "password2" {
		t.Errorf("after deleting password1: %+v", tok.Credentials)
	}
	e.fails(t, "token credential delete: say which password to delete: --password1, --password2 or both",
		"token", "credential", "delete", "-r", reg, "-n", "no-pass")

	e.ok(t, "token", "delete", "-r", reg, "-n", "ci-bot", "--yes")
	e.fails(t, `token show: token "ci-bot" not found`, "token", "show", "-r", reg, "-n", "ci-bot")
	e.fails(t, `scope-map delete: scope map "app-read" is used by tokens "ci-bot2", "month-bot", "no-pass"; `+
		"delete them or give them another scope map first", "scope-map", "delete", "-r", reg, "-n", "app-read", "-y")
}

// builtInScopeMaps returns the names of the built-in scope maps of
// registry, through the CLI.
func builtInScopeMaps(t *testing.T, e *cliEnv, registry string) []string {
	t.Helper()
	var names []string
	e.okJSON(t, &names, "scope-map", "list", "-r", registry, "--query", "[?type=='SystemDefined'].name")
	return names
}
