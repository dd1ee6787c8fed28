package client_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"berth/internal/client"
	"berth/internal/mgmt"
	"berth/internal/mgmt/api"
	"berth/internal/mgmt/mgmttest"
)

// TestRoundTrip runs the management API suite, which calls every method of
// the client, against the real handler over in-memory stores.
func TestRoundTrip(t *testing.T) {
	mgmttest.Run(t, func(t *testing.T) mgmttest.Target {
		mem := mgmttest.NewMemory()
		cfg := mgmt.Config{Domain: "example.com", Region: "westeurope",
			VerifyOperator: func(token string) bool { return token == "s3cret" }}
		h := mgmt.NewHandler(cfg, mgmt.Deps{
			Registries: mem, Identities: mem, Content: mem, Passwords: mgmttest.Passwords{},
			BuiltInScopeMaps: mgmttest.BuiltInScopeMaps, ValidateScopeMapAction: mgmttest.ValidateScopeMapAction,
		}, slog.New(slog.DiscardHandler))
		return mgmttest.Target{Handler: h, Token: "s3cret", Domain: "example.com", Region: "westeurope", Content: mem}
	})
}

// recorder answers every request with status and body and remembers the
// last request.
type recorder struct {
	status int
	body   string
	last   *http.Request
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.last = r
	w.WriteHeader(rec.status)
	fmt.Fprint(w, rec.body)
}

func TestRequests(t *testing.T) {
	rec := &recorder{status: http.StatusOK, body: `{"value": []}`}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	ctx := context.Background()
	c := client.New(srv.URL+"/behind/proxy/", "tok", srv.Client())

	for _, tc := range []struct {
		call      func() error
		method    string
		path      string
		query     string
		authHeads string
	}{
		{func() error { _, err := c.GetRepository(ctx, "contoso", "team/my app"); return err },
			"GET", "/behind/proxy/api/v1/registries/contoso/repositories/team/my%20app", "", "Bearer tok"},
		{func() error {
			_, err := c.ListTags(ctx, "contoso", "team/app", client.ListOptions{OrderBy: api.OrderTimeDesc, Top: 3})
			return err
		}, "GET", "/behind/proxy/api/v1/registries/contoso/tags", "orderby=time_desc&repository=team%2Fapp&top=3", "Bearer tok"},
		{func() error { return c.DeleteTag(ctx, "contoso", "team/app", "v1") },
			"DELETE", "/behind/proxy/api/v1/registries/contoso/tags/v1", "repository=team%2Fapp", "Bearer tok"},
		{func() error { _, err := c.GetToken(ctx, "contoso", "odd/name"); return err },
			"GET", "/behind/proxy/api/v1/registries/contoso/tokens/odd%2Fname", "", "Bearer tok"},
	} {
		if err := tc.call(); err != nil {
			t.Fatal(err)
		}
		r := rec.last
		if r.Method != tc.method || r.URL.EscapedPath() != tc.path || r.URL.RawQuery != tc.query || r.Header.Get("Authorization") != tc.authHeads {
			t.Errorf("sent %s %s?%s (%q), want %s %s?%s", r.Method, r.URL.EscapedPath(), r.URL.RawQuery,
				r.Header.Get("Authorization"), tc.method, tc.path, tc.query)
		}
	}

	if _, err := client.New(srv.URL, "", nil).Version(ctx); err != nil {
		t.Fatal(err)
	}
	if h := rec.last.Header.Get("Authorization"); h != "" {
		t.Errorf("a client without a token sent Authorization %q", h)
	}
}

func TestErrors(t *testing.T) {
	rec := &recorder{status: http.StatusNotFound, body: `{"error": {"code": "RegistryNotFound", "message": "registry \"x\" not found"}}`}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	ctx := context.Background()
	c := client.New(srv.URL, "tok", srv.Client())

	_, err := c.GetRegistry(ctx, "x")
	var ce *client.Error
	if !errors.As(err, &ce) || *ce != (client.Error{Status: 404, Code: api.CodeRegistryNotFound, Message: `registry "x" not found`}) {
		t.Fatalf("error = %#v", err)
	}
	if err.Error() != `registry "x" not found` {
		t.Errorf("Error() = %q", err.Error())
	}
	wrapped := fmt.Errorf("show: %w", err)
	if !client.IsNotFound(wrapped) || client.ErrorCode(wrapped) != api.CodeRegistryNotFound {
		t.Errorf("helpers do not see through wrapping: %v %q", client.IsNotFound(wrapped), client.ErrorCode(wrapped))
	}
	if client.IsNotFound(errors.New("x")) || client.ErrorCode(errors.New("x")) != "" {
		t.Error("helpers accept a foreign error")
	}

	rec.status, rec.body = http.StatusBadGateway, "<html>upstream down</html>"
	err = c.DeleteRegistry(ctx, "x")
	want := "DELETE " + srv.URL + "/api/v1/registries/x: 502 Bad Gateway: <html>upstream down</html>"
	if !errors.As(err, &ce) || ce.Status != 502 || ce.Code != "" || ce.Message != want {
		t.Errorf("error = %#v, want message %q", err, want)
	}

	rec.status, rec.body = http.StatusOK, "not json"
	if _, err := c.GetRegistry(ctx, "x"); err == nil || errors.As(err, &ce) {
		t.Errorf("undecodable answer: %v", err)
	}
	srv.Close()
	if _, err := c.GetRegistry(ctx, "x"); err == nil || errors.As(err, &ce) {
		t.Errorf("unreachable server: %v", err)
	}
}
