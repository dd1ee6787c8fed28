package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"berth/internal/mgmt/api"
)

func testRegistryCommands(t *testing.T, e *cliEnv) {
	reg := e.createRegistry(t, "contoso", "premium", "--location", "eastus", "--data-endpoint-enabled")
	if reg.Name != "contoso" || reg.SKU != "Premium" || reg.Location != "eastus" || reg.LoginServer != "contoso."+e.Domain ||
		!reg.DataEndpointEnabled || reg.AdminUserEnabled || reg.Credentials != nil {
		t.Errorf("created %+v", reg)
	}
	var got api.Registry
	e.okJSON(t, &got, "registry", "show", "--name", "contoso")
	if got.Name != "contoso" || !got.CreationDate.Equal(reg.CreationDate) {
		t.Errorf("show = %+v", got)
	}

	e.createRegistry(t, "fabrikam", "Basic")
	var list []api.Registry
	e.okJSON(t, &list, "registry", "list")
	var names []string
	for _, r := range list {
		if r.Name == "contoso" || r.Name == "fabrikam" {
			names = append(names, r.Name) // other registries, such as a node's default, may exist
		}
	}
	if s := strings.Join(names, ","); s != "contoso,fabrikam" {
		t.Errorf("list = %s", s)
	}

	e.okJSON(t, &got, "registry", "update", "-n", "contoso", "--sku", "Standard", "--data-endpoint-enabled", "false",
		"--anonymous-pull-enabled", "true")
	if got.SKU != "Standard" || got.DataEndpointEnabled || !got.AnonymousPullEnabled {
		t.Errorf("update = %+v", got)
	}
	e.okJSON(t, &got, "registry", "update", "-n", "contoso", "--data-endpoint-url-ttl", "90s")
	if got.DataEndpointURLTTLSeconds != 90 {
		t.Errorf("url ttl = %d", got.DataEndpointURLTTLSeconds)
	}
	e.fails(t, "registry update: dataEndpointUrlTtlSeconds must be from 30 to 3600 (or 0 for the default of 600), not 7200", "registry", "update", "-n", "contoso", "--data-endpoint-url-ttl", "2h")
	e.okJSON(t, &got, "registry", "update", "-n", "contoso", "--admin-enabled")
	if !got.AdminUserEnabled || got.Credentials == nil || len(got.Credentials.Passwords) != 2 || got.Credentials.Passwords[0].Value == "" {
		t.Errorf("turning the admin user on: %+v", got)
	}

	var health api.Health
	e.okJSON(t, &health, "registry", "check-health", "-n", "contoso")
	if !health.Healthy || health.Registry != "contoso" || len(health.Checks) == 0 {
		t.Errorf("check-health = %+v", health)
	}

	// show-endpoints prints exactly the API's document.
	e.createRegistry(t, "northwind", "Premium", "--data-endpoint-enabled", "true")
	out := e.ok(t, "registry", "show-endpoints", "-n", "northwind")
	want := `{
  "loginServer": "northwind.` + e.Domain + `",
  "dataEndpoints": [
    {
      "region": "` + e.Region + `",
      "endpoint": "northwind.` + e.Region + `.data.` + e.Domain + `"
    }
  ]
}
`
	if out != want {
		t.Errorf("show-endpoints:\n%s\nwant\n%s", out, want)
	}
	out = e.ok(t, "registry", "show-endpoints", "-n", "northwind", "-o", "table")
	var rows []string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		rows = append(rows, strings.Join(strings.Fields(line), " "))
	}
	wantRows := []string{"KIND REGION HOST", rows[1], "login server northwind." + e.Domain,
		"data endpoint " + e.Region + " northwind." + e.Region + ".data." + e.Domain}
	if !slices.Equal(rows, wantRows) || strings.Trim(rows[1], "- ") != "" {
		t.Errorf("show-endpoints -o table:\n%s", out)
	}
	if out := e.ok(t, "registry", "show-endpoints", "-n", "fabrikam"); !strings.Contains(out, `"dataEndpoints": []`) {
		t.Errorf("show-endpoints without data endpoints:\n%s", out)
	}

	if out := e.ok(t, "registry", "delete", "-n", "fabrikam", "--yes"); out != "" {
		t.Errorf("delete printed %q", out)
	}
	e.fails(t, `registry show: registry "fabrikam" not found`, "registry", "show", "-n", "fabrikam")
}

func testRegistryErrors(t *testing.T, e *cliEnv) {
	const rule = "a registry name must be 5 to 50 letters and digits (^[a-zA-Z0-9]{5,50}$)"
	e.fails(t, `registry create: invalid registry name "my-registry": it contains '-'; `+rule,
		"registry", "create", "-n", "my-registry", "--sku", "Basic")
	e.fails(t, `registry create: unknown SKU "Gold"; use Basic, Standard or Premium`,
		"registry", "create", "-n", "goldreg", "--sku", "Gold")
	e.createRegistry(t, "dupreg", "Basic")
	e.fails(t, `registry create: the registry name "dupreg" is not available: a registry of that name already exists`,
		"registry", "create", "-n", "DupReg", "--sku", "Standard")
	e.fails(t, `registry create: anonymous pull requires the Standard or Premium SKU; registry "anonbasic" is Basic`,
		"registry", "create", "-n", "anonbasic", "--sku", "Basic", "--anonymous-pull-enabled", "true")
	e.fails(t, `registry update: anonymous pull requires the Standard or Premium SKU; registry "dupreg" is Basic`,
		"registry", "update", "-n", "dupreg", "--anonymous-pull-enabled")
	e.fails(t, "registry update: nothing to change; give --sku, --admin-enabled, --anonymous-pull-enabled, --data-endpoint-enabled or --data-endpoint-url-ttl",
		"registry", "update", "-n", "dupreg")
	e.fails(t, `registry delete: registry "nosuchreg" not found`, "registry", "delete", "-n", "nosuchreg", "-y")
	e.fails(t, `required flag(s) "sku" not set`, "registry", "create", "-n", "nosku")
	e.fails(t, `required flag(s) "name" not set`, "registry", "show")
}

func testBoolFlags(t *testing.T, e *cliEnv) {
	for _, tc := range []struct {
		name  string
		args  []string
		admin bool
	}{
		{"boolsbare", []string{"--admin-enabled"}, true},
		{"boolstrue", []string{"--admin-enabled", "true"}, true},
		{"boolsfalse", []string{"--admin-enabled", "false"}, false},
		{"boolsequals", []string{"--admin-enabled=false"}, false},
		{"boolsthen", []string{"--admin-enabled", "False", "--location", "westus"}, false},
		{"boolsnone", nil, false},
	} {
		reg := e.createRegistry(t, tc.name, "Basic", tc.args...)
		if reg.AdminUserEnabled != tc.admin {
			t.Errorf("%v: admin enabled = %v", tc.args, reg.AdminUserEnabled)
		}
	}
	e.fails(t, `registry create: unexpected argument "maybe"`,
		"registry", "create", "-n", "boolsbad", "--sku", "Basic", "--admin-enabled", "maybe")
	e.fails(t, `registry update: unexpected argument "true"`,
		"registry", "update", "-n", "boolsbad", "--sku", "Basic", "true")
	_, _, err := e.run(t, "registry", "create", "-n", "boolsbad", "--sku", "Basic", "--admin-enabled=maybe")
	if err == nil || !strings.Contains(err.Error(), `want true or false, not "maybe"`) {
		t.Errorf("--admin-enabled=maybe: %v", err)
	}
}

func testOutputFormats(t *testing.T, e *cliEnv) {
	e.createRegistry(t, "alpha1", "Basic")
	e.createRegistry(t, "bravo2", "Premium", "--location", "westus")

	out := e.ok(t, "registry", "list", "-o", "table", "--query", "[?starts_with(name, 'alpha') || starts_with(name, 'bravo')]")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("table has %d lines:\n%s", len(lines), out)
	}
	// A query result is shown with its scalar fields as columns, by name.
	if !strings.HasPrefix(lines[0], "adminUserEnabled  anonymousPullEnabled  creationDate") ||
		!strings.HasPrefix(lines[1], "----------------  --------------------  ------------") {
		t.Errorf("query table header:\n%s", out)
	}

	out = e.ok(t, "registry", "show", "-n", "bravo2", "-o", "table")
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME    LOCATION  SKU      LOGIN SERVER") ||
		!strings.HasPrefix(lines[1], "------  --------  -------  ----") ||
		!strings.HasPrefix(lines[2], "bravo2  westus    Premium  bravo2."+e.Domain) {
		t.Errorf("table:\n%s", out)
	}
	if !strings.HasSuffix(lines[2], "false          false           false") {
		t.Errorf("table row %q does not end with the features", lines[2])
	}

	out = e.ok(t, "registry", "show", "-n", "bravo2", "-o", "tsv")
	fields := strings.Split(strings.TrimSuffix(out, "\n"), "\t")
	if len(fields) != 8 || fields[0] != "bravo2" || fields[1] != "westus" || fields[2] != "Premium" || fields[5] != "false" {
		t.Errorf("tsv = %q", out)
	}

	if out := e.ok(t, "registry", "show", "-n", "bravo2", "--query", "loginServer", "-o", "tsv"); out != "bravo2."+e.Domain+"\n" {
		t.Errorf("--query loginServer -o tsv = %q", out)
	}
	if out := e.ok(t, "registry", "show", "-n", "bravo2", "--query", "loginServer"); out != `"bravo2.`+e.Domain+`"`+"\n" {
		t.Errorf("--query loginServer = %q", out)
	}
	out = e.ok(t, "registry", "show", "-n", "bravo2", "--query", "{n: name, s: sku}")
	var m map[string]string
	if err := json.Unmarshal([]byte(out), &m); err != nil || m["n"] != "bravo2" || m["s"] != "Premium" {
		t.Errorf("--query multiselect = %q", out)
	}
	out = e.ok(t, "registry", "list", "--query", "[?name=='alpha1' || name=='bravo2'].name", "-o", "table")
	if out != "Result\n------\nalpha1\nbravo2\n" {
		t.Errorf("list of names as a table:\n%q", out)
	}

	out = e.ok(t, "registry", "show", "-n", "bravo2", "-o", "yaml")
	for _, line := range []string{"name: bravo2\n", "sku: Premium\n", "adminUserEnabled: false\n", "dataEndpointHostNames: []\n",
		"loginServer: bravo2." + e.Domain + "\n", `creationDate: "`} {
		if !strings.Contains(out, line) {
			t.Errorf("yaml lacks %q:\n%s", line, out)
		}
	}
	if !strings.HasPrefix(out, "name: bravo2\nsku: Premium\n") {
		t.Errorf("yaml does not keep the fields in order:\n%s", out)
	}
	out = e.ok(t, "registry", "show-endpoints", "-n", "bravo2", "-o", "yaml")
	if out != "loginServer: bravo2."+e.Domain+"\ndataEndpoints: []\n" {
		t.Errorf("endpoints as yaml:\n%s", out)
	}

	out = e.ok(t, "registry", "show", "-n", "bravo2", "-o", "jsonc")
	if !strings.Contains(out, colorKey+`"name"`+colorReset+": "+colorString+`"bravo2"`+colorReset) {
		t.Errorf("jsonc:\n%q", out)
	}
	if out := e.ok(t, "registry", "show", "-n", "bravo2", "-o", "none"); out != "" {
		t.Errorf("-o none printed %q", out)
	}

	e.fails(t, `registry show: unknown --output "xml"; use json, jsonc, table, tsv, yaml, none`,
		"registry", "show", "-n", "bravo2", "-o", "xml")
	_, _, err := e.run(t, "registry", "show", "-n", "bravo2", "--query", "[?name==")
	if err == nil || !strings.HasPrefix(err.Error(), `registry show: --query "[?name==": `) {
		t.Errorf("bad query: %v", err)
	}
}

func testCredentialCommands(t *testing.T, e *cliEnv) {
	reg := e.createRegistry(t, "adminreg", "Basic", "--admin-enabled", "true")
	if reg.Credentials == nil || reg.Credentials.Username != "adminreg" || len(reg.Credentials.Passwords) != 2 {
		t.Fatalf("create with admin: %+v", reg.Credentials)
	}
	var creds api.Credentials
	e.okJSON(t, &creds, "credential", "show", "-n", "adminreg")
	if creds.Username != "adminreg" || len(creds.Passwords) != 2 || creds.Passwords[0].Value != "" {
		t.Errorf("show = %+v", creds)
	}
	e.okJSON(t, &creds, "credential", "renew", "-n", "adminreg", "--password-name", "password2")
	if p, ok := creds.Password("password2"); !ok || p.Value == "" || p.Value == reg.Credentials.Passwords[1].Value {
		t.Errorf("renew = %+v", creds)
	}
	out := e.ok(t, "credential", "show", "-n", "adminreg", "-o", "table")
	if !strings.HasPrefix(out, "NAME       VALUE  CREATED") || !strings.Contains(out, "\npassword2  ") {
		t.Errorf("credential table:\n%s", out)
	}

	e.createRegistry(t, "noadmin", "Basic")
	_, _, err := e.run(t, "credential", "show", "-n", "noadmin")
	if err == nil || !strings.HasPrefix(err.Error(), "credential show: ") || !strings.Contains(err.Error(), "admin") {
		t.Errorf("credential show without admin user: %v", err)
	}
	_, _, err = e.run(t, "credential", "renew", "-n", "adminreg", "--password-name", "password3")
	if err == nil || !strings.HasPrefix(err.Error(), "credential renew: ") || !strings.Contains(err.Error(), "password3") {
		t.Errorf("renew password3: %v", err)
	}
}
