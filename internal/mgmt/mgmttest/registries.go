package mgmttest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"berth/internal/client"
	"berth/internal/mgmt/api"
)

// operatorHint is the end of every 401 message.
const operatorHint = "send \"Authorization: Bearer <token>\" with the operator token that `berth serve` writes to <data-dir>/operator-token"

func testVersion(t *testing.T, e *env) {
	for _, path := range []string{"/api/v1/", "/api/v1/version"} {
		r := e.raw(t, "GET", path, "", "")
		var v api.Version
		if r.status != http.StatusOK || json.Unmarshal(r.body, &v) != nil {
			t.Fatalf("GET %s = %d %s", path, r.status, r.body)
		}
		if v != (api.Version{Version: "v1", Region: e.Region}) {
			t.Errorf("GET %s = %+v", path, v)
		}
	}
	anonymous := client.New(e.url, "", e.http)
	v := must(anonymous.Version(e.ctx))(t)
	if v.Version != "v1" || v.Region != e.Region {
		t.Errorf("Version() = %+v", v)
	}
}

func testOperatorToken(t *testing.T, e *env) {
	for _, tc := range []struct{ authorization, msg string }{
		{"", "the operator token is missing: " + operatorHint},
		{"Bearer not-the-token", "the operator token is not valid: " + operatorHint},
		{"Basic " + e.Token, "the Authorization header is not a bearer token: " + operatorHint},
		{"Bearer ", "the operator token is missing: " + operatorHint},
		{"Token " + e.Token, "the Authorization header is not a bearer token: " + operatorHint},
	} {
		r := e.raw(t, "GET", "/api/v1/registries", "", tc.authorization)
		wantRawError(t, r, http.StatusUnauthorized, api.CodeUnauthorized, tc.msg)
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("401 for %q has no WWW-Authenticate header", tc.authorization)
		}
	}
	_, err := client.New(e.url, "wrong", e.http).ListRegistries(e.ctx)
	wantError(t, err, http.StatusUnauthorized, api.CodeUnauthorized, "the operator token is not valid: "+operatorHint)
	if r := e.raw(t, "GET", "/api/v1/registries", "", "bearer "+e.Token); r.status != http.StatusOK {
		t.Errorf("lowercase bearer scheme: %d %s", r.status, r.body)
	}
}

func testUnknownRoutes(t *testing.T, e *env) {
	wantRawError(t, e.authed(t, "GET", "/api/v1/nothing/here", ""), http.StatusNotFound, api.CodeNotFound,
		"no API endpoint at GET /api/v1/nothing/here")
	r := e.authed(t, "PUT", "/api/v1/registries", "{}")
	wantRawError(t, r, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed,
		"method PUT is not allowed on /api/v1/registries; use GET, HEAD, POST")
	if got := r.header.Get("Allow"); got != "GET, HEAD, POST" {
		t.Errorf("Allow = %q", got)
	}
	r = e.authed(t, "POST", "/api/v1/registries/abcde/tokens/sometoken", "{}")
	wantRawError(t, r, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed,
		"method POST is not allowed on /api/v1/registries/abcde/tokens/sometoken; use DELETE, GET, HEAD, PATCH")
}

func testMalformedBodies(t *testing.T, e *env) {
	const fields = "name, sku, location, adminUserEnabled, anonymousPullEnabled, dataEndpointEnabled"
	for _, tc := range []struct{ body, msg string }{
		{"", "the request body is empty; send a JSON object"},
		{"{", "malformed JSON: the body ends in the middle of a value"},
		{`{"name":}`, "malformed JSON at byte 9: invalid character '}' looking for beginning of value"},
		{`[]`, "the request body must be a JSON object, not array"},
		{`{"name": 5}`, `field "name" must be of JSON type string, not number`},
		{`{"name": "abcde", "sku": "Basic", "colour": "red"}`, `unknown field "colour" in the request body; the fields are ` + fields},
		{`{"name": "abcde", "sku": "Basic"} {}`, "the request body holds more than one JSON value"},
	} {
		wantRawError(t, e.authed(t, "POST", "/api/v1/registries", tc.body), http.StatusBadRequest, api.CodeBadRequest, tc.msg)
	}
	if _, err := e.c.GetRegistry(e.ctx, "abcde"); !client.IsNotFound(err) {
		t.Errorf("a malformed request created a registry: %v", err)
	}
}

func testRegistryLifecycle(t *testing.T, e *env) {
	r := e.authed(t, "POST", "/api/v1/registries", `{"name": "Contoso1", "sku": "basic"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/registries/contoso1" {
		t.Errorf("Location = %q", loc)
	}
	var fields map[string]any
	check(t, json.Unmarshal(r.body, &fields))
	for _, f := range []string{"name", "sku", "location", "loginServer", "adminUserEnabled", "anonymousPullEnabled",
		"dataEndpointEnabled", "dataEndpointHostNames", "provisioningState", "creationDate"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("registry JSON lacks %q: %s", f, r.body)
		}
	}
	if _, ok := fields["credentials"]; ok {
		t.Errorf("registry without admin user has credentials: %s", r.body)
	}
	if !strings.Contains(string(r.body), `"dataEndpointHostNames":[]`) {
		t.Errorf("dataEndpointHostNames is not an empty list: %s", r.body)
	}

	reg := must(e.c.GetRegistry(e.ctx, "CONTOSO1"))(t)
	want := api.Registry{Name: "contoso1", SKU: "Basic", Location: e.Region, LoginServer: "contoso1." + e.Domain,
		DataEndpointHostNames: []string{}, ProvisioningState: "Succeeded", CreationDate: reg.CreationDate}
	if !equalRegistry(reg, want) || reg.CreationDate.IsZero() {
		t.Errorf("GetRegistry = %+v\nwant %+v", reg, want)
	}
	regs := must(e.c.ListRegistries(e.ctx))(t)
	if !slices.ContainsFunc(regs, func(r api.Registry) bool { return equalRegistry(r, want) }) {
		t.Errorf("ListRegistries = %+v, lacks %+v", regs, want)
	}

	reg = must(e.c.UpdateRegistry(e.ctx, "contoso1", api.UpdateRegistryRequest{SKU: new("standard"), AnonymousPullEnabled: new(true)}))(t)
	want.SKU, want.AnonymousPullEnabled = "Standard", true
	if !equalRegistry(reg, want) {
		t.Errorf("UpdateRegistry = %+v\nwant %+v", reg, want)
	}
	if reg := must(e.c.GetRegistry(e.ctx, "contoso1"))(t); !equalRegistry(reg, want) {
		t.Errorf("after update GetRegistry = %+v\nwant %+v", reg, want)
	}
	reg = must(e.c.UpdateRegistry(e.ctx, "contoso1", api.UpdateRegistryRequest{}))(t)
	if !equalRegistry(reg, want) {
		t.Errorf("empty update changed the registry: %+v", reg)
	}

	if r := e.authed(t, "DELETE", "/api/v1/registries/contoso1", ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	_, err := e.c.GetRegistry(e.ctx, "contoso1")
	wantError(t, err, http.StatusNotFound, api.CodeRegistryNotFound, `registry "contoso1" not found`)
	wantError(t, e.c.DeleteRegistry(e.ctx, "contoso1"), http.StatusNotFound, api.CodeRegistryNotFound, `registry "contoso1" not found`)
	_, err = e.c.UpdateRegistry(e.ctx, "contoso1", api.UpdateRegistryRequest{})
	wantError(t, err, http.StatusNotFound, api.CodeRegistryNotFound, `registry "contoso1" not found`)
}

// equalRegistry compares registries, times included.
func equalRegistry(a, b api.Registry) bool {
	return a.Name == b.Name && a.SKU == b.SKU && a.Location == b.Location && a.LoginServer == b.LoginServer &&
		a.AdminUserEnabled == b.AdminUserEnabled && a.AnonymousPullEnabled == b.AnonymousPullEnabled &&
		a.DataEndpointEnabled == b.DataEndpointEnabled && slices.Equal(a.DataEndpointHostNames, b.DataEndpointHostNames) &&
		a.DataEndpointHostNames != nil && b.DataEndpointHostNames != nil &&
		a.ProvisioningState == b.ProvisioningState && a.CreationDate.Equal(b.CreationDate)
}

func testRegistryNames(t *testing.T, e *env) {
	const rule = "a registry name must be 5 to 50 letters and digits (^[a-zA-Z0-9]{5,50}$)"
	long := strings.Repeat("a", 51)
	for _, tc := range []struct{ name, msg string }{
		{"abcd", `invalid registry name "abcd": it is 4 characters long; ` + rule},
		{long, `invalid registry name "` + long + `": it is 51 characters long; ` + rule},
		{"my-registry", `invalid registry name "my-registry": it contains '-'; ` + rule},
		{"my_registry", `invalid registry name "my_registry": it contains '_'; ` + rule},
		{"", "the registry name is missing; " + rule},
	} {
		_, err := e.c.CreateRegistry(e.ctx, api.CreateRegistryRequest{Name: tc.name, SKU: "Basic"})
		wantError(t, err, http.StatusBadRequest, api.CodeInvalidRegistryName, tc.msg)
	}
	for _, name := range []string{"abcde", strings.Repeat("b", 50), "MixedCase9"} {
		reg := must(e.c.CreateRegistry(e.ctx, api.CreateRegistryRequest{Name: name, SKU: "Basic"}))(t)
		if reg.Name != strings.ToLower(name) {
			t.Errorf("created %q as %q", name, reg.Name)
		}
	}
	for _, name := range []string{"abcde", "ABCDE", "mixedcase9"} {
		_, err := e.c.CreateRegistry(e.ctx, api.CreateRegistryRequest{Name: name, SKU: "Premium"})
		wantError(t, err, http.StatusConflict, api.CodeRegistryNameNotAvailable,
			`the registry name "`+strings.ToLower(name)+`" is not available: a registry of that name already exists`)
	}
}

func testRegistrySKUs(t *testing.T, e *env) {
	for _, tc := range []struct{ in, want string }{{"premium", "Premium"}, {"STANDARD", "Standard"}, {"Basic", "Basic"}} {
		reg := must(e.c.CreateRegistry(e.ctx, api.CreateRegistryRequest{Name: "sku" + strings.ToLower(tc.in), SKU: tc.in}))(t)
		if reg.SKU != tc.want {
			t.Errorf("sku %q created as %q", tc.in, reg.SKU)
		}
	}
	_, err := e.c.CreateRegistry(e.ctx, api.CreateRegistryRequest{Name: "skugold", SKU: "Gold"})
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidSku, `unknown SKU "Gold"; use Basic, Standard or Premium`)
	_, err = e.c.CreateRegistry(e.ctx, api.CreateRegistryRequest{Name: "skunone"})
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidSku, "the sku is missing; use Basic, Standard or Premium")
	_, err = e.c.UpdateRegistry(e.ctx, "skubasic", api.UpdateRegistryRequest{SKU: new("Platinum")})
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidSku, `unknown SKU "Platinum"; use Basic, Standard or Premium`)
	reg := must(e.c.UpdateRegistry(e.ctx, "skubasic", api.UpdateRegistryRequest{SKU: new("PREMIUM")}))(t)
	if reg.SKU != "Premium" {
		t.Errorf("updated SKU = %q", reg.SKU)
	}

	reg = must(e.c.CreateRegistry(e.ctx, api.CreateRegistryRequest{Name: "westreg", SKU: "Basic", Location: "WestUS"}))(t)
	if reg.Location != "westus" {
		t.Errorf("location = %q, want westus", reg.Location)
	}
	_, err = e.c.CreateRegistry(e.ctx, api.CreateRegistryRequest{Name: "badloc", SKU: "Basic", Location: "west us"})
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidLocation,
		`invalid location "west us": a region name is 1 to 63 letters, digits and '-', starting and ending with a letter or digit`)
}

func testSKUGates(t *testing.T, e *env) {
	gate := func(name, sku string, anon, data bool) error {
		_, err := e.c.CreateRegistry(e.ctx, api.CreateRegistryRequest{Name: name, SKU: sku, AnonymousPullEnabled: anon, DataEndpointEnabled: data})
		return err
	}
	wantError(t, gate("gatebasic", "Basic", true, false), http.StatusBadRequest, api.CodeFeatureNotSupportedForSku,
		`anonymous pull requires the Standard or Premium SKU; registry "gatebasic" is Basic`)
	wantError(t, gate("gatestandard", "Standard", false, true), http.StatusBadRequest, api.CodeFeatureNotSupportedForSku,
		`dedicated data endpoints require the Premium SKU; registry "gatestandard" is Standard`)
	wantError(t, gate("gatebasic", "Basic", false, true), http.StatusBadRequest, api.CodeFeatureNotSupportedForSku,
		`dedicated data endpoints require the Premium SKU; registry "gatebasic" is Basic`)
	for _, name := range []string{"gatebasic", "gatestandard"} {
		if _, err := e.c.GetRegistry(e.ctx, name); !client.IsNotFound(err) {
			t.Errorf("a refused create left registry %s: %v", name, err)
		}
	}

	check(t, gate("anonstd", "Standard", true, false))
	_, err := e.c.UpdateRegistry(e.ctx, "anonstd", api.UpdateRegistryRequest{SKU: new("Basic")})
	wantError(t, err, http.StatusBadRequest, api.CodeFeatureNotSupportedForSku, `cannot change registry "anonstd" to the Basic SKU `+
		"while anonymous pull is enabled; turn anonymous pull off first (anonymousPullEnabled: false)")
	if reg := must(e.c.GetRegistry(e.ctx, "anonstd"))(t); reg.SKU != "Standard" || !reg.AnonymousPullEnabled {
		t.Errorf("a refused update changed the registry: %+v", reg)
	}
	reg := must(e.c.UpdateRegistry(e.ctx, "anonstd", api.UpdateRegistryRequest{SKU: new("Basic"), AnonymousPullEnabled: new(false)}))(t)
	if reg.SKU != "Basic" || reg.AnonymousPullEnabled {
		t.Errorf("downgrade with anonymous pull off: %+v", reg)
	}
	_, err = e.c.UpdateRegistry(e.ctx, "anonstd", api.UpdateRegistryRequest{AnonymousPullEnabled: new(true)})
	wantError(t, err, http.StatusBadRequest, api.CodeFeatureNotSupportedForSku,
		`anonymous pull requires the Standard or Premium SKU; registry "anonstd" is Basic`)
	_, err = e.c.UpdateRegistry(e.ctx, "anonstd", api.UpdateRegistryRequest{SKU: new("Standard"), DataEndpointEnabled: new(true)})
	wantError(t, err, http.StatusBadRequest, api.CodeFeatureNotSupportedForSku,
		`dedicated data endpoints require the Premium SKU; registry "anonstd" is Standard`)

	check(t, gate("datapremium", "Premium", true, true))
	for _, sku := range []string{"Standard", "Basic"} {
		_, err = e.c.UpdateRegistry(e.ctx, "datapremium", api.UpdateRegistryRequest{SKU: new(sku), AnonymousPullEnabled: new(false)})
		wantError(t, err, http.StatusBadRequest, api.CodeFeatureNotSupportedForSku, `cannot change registry "datapremium" to the `+sku+
			" SKU while dedicated data endpoints are enabled; turn them off first (dataEndpointEnabled: false)")
	}
	reg = must(e.c.UpdateRegistry(e.ctx, "datapremium", api.UpdateRegistryRequest{SKU: new("Standard"), DataEndpointEnabled: new(false)}))(t)
	if reg.SKU != "Standard" || reg.DataEndpointEnabled || !reg.AnonymousPullEnabled || len(reg.DataEndpointHostNames) != 0 {
		t.Errorf("downgrade with data endpoints off: %+v", reg)
	}
}

func testEndpoints(t *testing.T, e *env) {
	reg := e.createRegistry(t, api.CreateRegistryRequest{Name: "fabrikam", SKU: "Premium", DataEndpointEnabled: true})
	host := "fabrikam." + e.Region + ".data." + e.Domain
	if !slices.Equal(reg.DataEndpointHostNames, []string{host}) || !reg.DataEndpointEnabled {
		t.Errorf("created %+v, want data endpoint %s", reg, host)
	}
	eps := must(e.c.ShowEndpoints(e.ctx, "fabrikam"))(t)
	want := api.Endpoints{LoginServer: "fabrikam." + e.Domain, DataEndpoints: []api.DataEndpoint{{Region: e.Region, Endpoint: host}}}
	if eps.LoginServer != want.LoginServer || !slices.Equal(eps.DataEndpoints, want.DataEndpoints) {
		t.Errorf("ShowEndpoints = %+v, want %+v", eps, want)
	}

	e.createRegistry(t, api.CreateRegistryRequest{Name: "westpremium", SKU: "Premium", Location: "westus", DataEndpointEnabled: true})
	eps = must(e.c.ShowEndpoints(e.ctx, "westpremium"))(t)
	if !slices.Equal(eps.DataEndpoints, []api.DataEndpoint{{Region: "westus", Endpoint: "westpremium.westus.data." + e.Domain}}) {
		t.Errorf("ShowEndpoints(westpremium) = %+v", eps)
	}

	reg = must(e.c.UpdateRegistry(e.ctx, "fabrikam", api.UpdateRegistryRequest{DataEndpointEnabled: new(false)}))(t)
	if len(reg.DataEndpointHostNames) != 0 {
		t.Errorf("disabled data endpoints still listed: %+v", reg)
	}
	r := e.authed(t, "GET", "/api/v1/registries/fabrikam/endpoints", "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"dataEndpoints":[]`) {
		t.Errorf("endpoints without data endpoints: %d %s", r.status, r.body)
	}
	_, err := e.c.ShowEndpoints(e.ctx, "nosuchreg")
	wantError(t, err, http.StatusNotFound, api.CodeRegistryNotFound, `registry "nosuchreg" not found`)
}

func testHealth(t *testing.T, e *env) {
	e.createRegistry(t, api.CreateRegistryRequest{Name: "healthy1", SKU: "Basic"})
	h := must(e.c.CheckHealth(e.ctx, "healthy1"))(t)
	if h.Registry != "healthy1" || len(h.Checks) == 0 {
		t.Fatalf("CheckHealth = %+v", h)
	}
	if c := h.Checks[0]; c.Name != "metadata" || c.Status != api.HealthOK || c.Message == "" {
		t.Errorf("first check = %+v, want metadata ok", c)
	}
	healthy := true
	for _, c := range h.Checks {
		if c.Status != api.HealthOK && c.Status != api.HealthWarning && c.Status != api.HealthError {
			t.Errorf("check %+v has an unknown status", c)
		}
		healthy = healthy && c.Status != api.HealthError
	}
	if h.Healthy != healthy {
		t.Errorf("Healthy = %v with checks %+v", h.Healthy, h.Checks)
	}
	_, err := e.c.CheckHealth(e.ctx, "nosuchreg")
	wantError(t, err, http.StatusNotFound, api.CodeRegistryNotFound, `registry "nosuchreg" not found`)
}
