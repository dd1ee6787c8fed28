package mgmt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"berth/internal/berth"
	"berth/internal/mgmt"
	"berth/internal/mgmt/api"
	"berth/internal/mgmt/mgmttest"
)

const operatorToken = "operator-secret"

// newHandler returns the handler over mem with the test fakes of the auth
// rules.
func newHandler(mem *mgmttest.Memory, cfg mgmt.Config, log *slog.Logger) *mgmt.Handler {
	if cfg.VerifyOperator == nil {
		cfg.VerifyOperator = func(token string) bool { return token == operatorToken }
	}
	return mgmt.NewHandler(cfg, mgmt.Deps{
		Registries:             mem,
		Identities:             mem,
		Content:                mem,
		Passwords:              mgmttest.Passwords{},
		BuiltInScopeMaps:       mgmttest.BuiltInScopeMaps,
		ValidateScopeMapAction: mgmttest.ValidateScopeMapAction,
	}, log)
}

func TestSuiteOverMemory(t *testing.T) {
	mgmttest.Run(t, func(t *testing.T) mgmttest.Target {
		mem := mgmttest.NewMemory()
		cfg := mgmt.Config{Domain: "registry.test", Region: "eastus"}
		return mgmttest.Target{Handler: newHandler(mem, cfg, slog.New(slog.DiscardHandler)), Token: operatorToken,
			Domain: "registry.test", Region: "eastus", Content: mem}
	})
}

func TestNewHandlerNeedsEveryDependency(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewHandler accepted a Deps without stores")
		}
	}()
	mgmt.NewHandler(mgmt.Config{}, mgmt.Deps{}, slog.New(slog.DiscardHandler))
}

// do sends one request with the operator token to h.
func do(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+operatorToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func errorOf(t *testing.T, rec *httptest.ResponseRecorder) api.ErrorDetail {
	t.Helper()
	var body api.ErrorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return body.Error
}

func TestScopeMapActionMessageComesFromTheRules(t *testing.T) {
	h := newHandler(mgmttest.NewMemory(), mgmt.Config{}, slog.New(slog.DiscardHandler))
	do(h, "POST", "/api/v1/registries", `{"name": "rules", "sku": "Basic"}`)
	rec := do(h, "POST", "/api/v1/registries/rules/scopeMaps", `{"name": "bad-map", "actions": ["repositories/app/content/fly"]}`)
	want := api.ErrorDetail{Code: api.CodeInvalidScopeMapAction, Message: `scope map action "repositories/app/content/fly" does not end in ` +
		"content/read, content/write, content/delete, metadata/read or metadata/write"}
	if got := errorOf(t, rec); rec.Code != http.StatusBadRequest || got != want {
		t.Errorf("got %d %+v, want 400 %+v", rec.Code, got, want)
	}
}

func TestHealthHook(t *testing.T) {
	cfg := mgmt.Config{Health: func(_ context.Context, registry string) []api.HealthCheck {
		return []api.HealthCheck{
			{Name: "blobs", Status: api.HealthOK, Message: "blob store of " + registry + " answers"},
			{Name: "keys", Status: api.HealthError, Message: "key vault unreachable"},
		}
	}}
	h := newHandler(mgmttest.NewMemory(), cfg, slog.New(slog.DiscardHandler))
	do(h, "POST", "/api/v1/registries", `{"name": "hooked", "sku": "Basic"}`)
	rec := do(h, "GET", "/api/v1/registries/hooked/health", "")
	var got api.Health
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if got.Healthy || len(got.Checks) != 3 || got.Checks[1].Message != "blob store of hooked answers" || got.Checks[2].Name != "keys" {
		t.Errorf("health = %+v", got)
	}
}

// failing is a store whose every registry read fails with err.
type failing struct {
	*mgmttest.Memory
	err error
}

func (f failing) Registry(context.Context, string) (berth.Registry, error) {
	return berth.Registry{}, f.err
}
func (f failing) Registries(context.Context) ([]berth.Registry, error) { return nil, f.err }

func TestStoreFailures(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		want   api.ErrorDetail
		logged bool
	}{
		{errors.New("disk on fire"), 500,
			api.ErrorDetail{Code: api.CodeInternalServerError, Message: "internal error; the server log has the details"}, true},
		{berth.E("metadata.Registry", berth.KindUnavailable, "database is down"), 503,
			api.ErrorDetail{Code: api.CodeServiceUnavailable, Message: "service temporarily unavailable: database is down"}, true},
		{berth.E("metadata.Registry", berth.KindTooManyRequests, "slow down"), 429,
			api.ErrorDetail{Code: api.CodeTooManyRequests, Message: "slow down"}, false},
		{berth.E("metadata.Registry", berth.KindConflict, "changed underneath"), 409,
			api.ErrorDetail{Code: api.CodeConflict, Message: "changed underneath"}, false},
	} {
		var logs bytes.Buffer
		mem := mgmttest.NewMemory()
		cfg := mgmt.Config{VerifyOperator: func(token string) bool { return token == operatorToken }}
		h := mgmt.NewHandler(cfg, mgmt.Deps{Registries: failing{mem, tc.err}, Identities: mem, Content: mem,
			Passwords: mgmttest.Passwords{}, BuiltInScopeMaps: mgmttest.BuiltInScopeMaps,
			ValidateScopeMapAction: mgmttest.ValidateScopeMapAction}, slog.New(slog.NewTextHandler(&logs, nil)))
		rec := do(h, "GET", "/api/v1/registries/anything/tokens", "")
		if got := errorOf(t, rec); rec.Code != tc.status || got != tc.want {
			t.Errorf("%v: got %d %+v, want %d %+v", tc.err, rec.Code, got, tc.status, tc.want)
		}
		if logged := strings.Contains(logs.String(), tc.err.Error()); logged != tc.logged {
			t.Errorf("%v: logged = %v, want %v: %s", tc.err, logged, tc.logged, logs.String())
		}
		rec = do(h, "GET", "/api/v1/registries/anything/health", "")
		var health api.Health
		if err := json.Unmarshal(rec.Body.Bytes(), &health); err != nil || rec.Code != 200 || health.Healthy ||
			health.Checks[0].Status != api.HealthError {
			t.Errorf("%v: health = %d %s", tc.err, rec.Code, rec.Body)
		}
	}
}

func TestRequestBodyLimit(t *testing.T) {
	h := newHandler(mgmttest.NewMemory(), mgmt.Config{}, slog.New(slog.DiscardHandler))
	big := `{"name": "` + strings.Repeat("a", 2<<20) + `"}`
	rec := do(h, "POST", "/api/v1/registries", big)
	want := api.ErrorDetail{Code: api.CodeRequestTooLarge, Message: "the request body exceeds 1048576 bytes"}
	if got := errorOf(t, rec); rec.Code != http.StatusRequestEntityTooLarge || got != want {
		t.Errorf("got %d %+v", rec.Code, got)
	}
	io.Copy(io.Discard, rec.Body)
}
