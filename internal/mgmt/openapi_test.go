package mgmt

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"berth/internal/mgmt/api"
)

// openAPI is the part of api/openapi.json the tests read.
type openAPI struct {
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
			Required []string `json:"required"`
		} `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	OperationID string           `json:"operationId"`
	Security    *json.RawMessage `json:"security"`
}

func loadOpenAPI(t *testing.T) openAPI {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "api", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("api/openapi.json: %v", err)
	}
	return doc
}

// openAPIPath writes a ServeMux pattern's path as OpenAPI does: no "..."
// in wildcards, no {$}.
func openAPIPath(p string) string {
	return strings.TrimSuffix(strings.ReplaceAll(p, "...}", "}"), "{$}")
}

// TestOpenAPIDocumentsEveryRoute checks that api/openapi.json documents
// every route of routes.go with its operationId and nothing else, and that
// exactly the public routes need no token.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := map[string]operation{}
	for path, item := range doc.Paths {
		for method, op := range item {
			documented[strings.ToUpper(method)+" "+path] = op
		}
	}
	served := map[string]bool{}
	for _, rt := range (&Handler{}).routes() {
		key := rt.method + " " + openAPIPath(rt.path)
		served[key] = true
		op, ok := documented[key]
		switch {
		case !ok:
			t.Errorf("%s is served but not documented", key)
		case op.OperationID != rt.operation:
			t.Errorf("%s: operationId %q, routes.go says %q", key, op.OperationID, rt.operation)
		case rt.public != (op.Security != nil && string(*op.Security) == "[]"):
			t.Errorf("%s: public is %v in routes.go, but the document's security is %v", key, rt.public, op.Security)
		}
	}
	for key := range documented {
		if !served[key] {
			t.Errorf("%s is documented but not served", key)
		}
	}
}

// wireTypes maps the schemas of api/openapi.json to the types of package
// api.
var wireTypes = map[string]any{
	"ErrorResponse": api.ErrorResponse{}, "ErrorDetail": api.ErrorDetail{}, "Version": api.Version{},
	"Registry": api.Registry{}, "RegistryList": api.RegistryList{}, "CreateRegistryRequest": api.CreateRegistryRequest{},
	"UpdateRegistryRequest": api.UpdateRegistryRequest{}, "Endpoints": api.Endpoints{}, "DataEndpoint": api.DataEndpoint{},
	"Allowlist": api.Allowlist{}, "AllowRule": api.AllowRule{}, "HostAddress": api.HostAddress{},
	"Health": api.Health{}, "HealthCheck": api.HealthCheck{}, "Credentials": api.Credentials{}, "Password": api.Password{},
	"RenewPasswordRequest": api.RenewPasswordRequest{}, "ScopeMap": api.ScopeMap{}, "ScopeMapList": api.ScopeMapList{},
	"CreateScopeMapRequest": api.CreateScopeMapRequest{}, "UpdateScopeMapRequest": api.UpdateScopeMapRequest{},
	"Token": api.Token{}, "TokenList": api.TokenList{}, "CreateTokenRequest": api.CreateTokenRequest{},
	"UpdateTokenRequest": api.UpdateTokenRequest{}, "GeneratePasswordRequest": api.GeneratePasswordRequest{},
	"Attributes": api.Attributes{}, "AttributesUpdate": api.AttributesUpdate{}, "RepositoryList": api.RepositoryList{},
	"Repository": api.Repository{}, "Tag": api.Tag{}, "TagList": api.TagList{}, "Manifest": api.Manifest{},
	"ManifestList": api.ManifestList{},
}

// TestOpenAPISchemasMatchWireTypes checks that every schema has the JSON
// fields of its Go type, and that a field is required exactly when the Go
// type always sends it (no omitempty or omitzero).
func TestOpenAPISchemasMatchWireTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	for name := range doc.Components.Schemas {
		if _, ok := wireTypes[name]; !ok {
			t.Errorf("schema %s has no wire type", name)
		}
	}
	for name, v := range wireTypes {
		schema, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("wire type %s has no schema", name)
			continue
		}
		var fields, required []string
		for f := range reflect.TypeOf(v).Fields() {
			tag, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields = append(fields, tag)
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, tag)
			}
		}
		slices.Sort(fields)
		slices.Sort(required)
		if props := slices.Sorted(maps.Keys(schema.Properties)); !slices.Equal(props, fields) {
			t.Errorf("schema %s has properties %q, the Go type %q", name, props, fields)
		}
		if got := slices.Sorted(slices.Values(schema.Required)); !slices.Equal(got, required) {
			t.Errorf("schema %s requires %q, the Go type always sends %q", name, got, required)
		}
	}
}

// TestOpenAPIErrorCodes checks that the document lists every error code
// the handler has a status for.
func TestOpenAPIErrorCodes(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := slices.Sorted(slices.Values(doc.Components.Schemas["ErrorDetail"].Properties["code"].Enum))
	var known []string
	for code := range statusOf {
		known = append(known, string(code))
	}
	slices.Sort(known)
	if !slices.Equal(documented, known) {
		t.Errorf("documented error codes %q, the handler's %q", documented, known)
	}
}
