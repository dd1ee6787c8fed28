package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"berth/internal/auth"
	"berth/internal/berth"

	"github.com/opencontainers/go-digest"
)

// TestDataEndpointSwitchIsImmediate turns dedicated data endpoints on and
// off on a running node: the next blob GET follows the new mode at once,
// and a URL minted before the switch keeps working until it expires.
func TestDataEndpointSwitchIsImmediate(t *testing.T) {
	n, meta, c := newTestNode(t)
	c.auth = false
	srv := httptest.NewServer(n)
	defer srv.Close()
	ctx := context.Background()
	reg, err := meta.Registry(ctx, defaultRegistry)
	if err != nil {
		t.Fatal(err)
	}

	content := []byte("layer bytes")
	d := digest.FromBytes(content)
	admin := adminBasic(t, meta, reg.Name)
	send := func(method, host, path string, body io.Reader) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, body)
		req.Host = host
		if !strings.Contains(host, ".data.") {
			req.SetBasicAuth(reg.Name, admin)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	login := "default." + c.domain
	if r := send("POST", login, "/v2/a/blobs/uploads/?digest="+d.String(), strings.NewReader(string(content))); r.StatusCode != 201 {
		t.Fatalf("push: %d", r.StatusCode)
	}

	setData := func(on bool) {
		t.Helper()
		cur, _ := meta.Registry(ctx, reg.Name)
		s := cur.Settings
		s.DataEndpointEnabled = on
		if err := meta.UpdateSettings(ctx, reg.Name, s); err != nil {
			t.Fatal(err)
		}
		n.forget() // as the management API does after an update
	}
	setData(true)
	r := send("GET", login, "/v2/a/blobs/"+d.String(), nil)
	if r.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("with data endpoints on: %d", r.StatusCode)
	}
	loc, _ := url.Parse(r.Header.Get("Location"))
	if loc.Hostname() != "default.eastus.data.example.com" {
		t.Fatalf("redirect to %s", loc)
	}

	setData(false)
	if r := send("GET", login, "/v2/a/blobs/"+d.String(), nil); r.StatusCode != http.StatusOK {
		t.Fatalf("with data endpoints off: %d, want the login server to stream", r.StatusCode)
	}
	r = send("GET", loc.Host, loc.RequestURI(), nil)
	if b, _ := io.ReadAll(r.Body); r.StatusCode != http.StatusOK || string(b) != string(content) {
		t.Fatalf("URL minted before the switch: %d %q", r.StatusCode, b)
	}
}

// adminBasic enables the admin user of registry name with a known password.
func adminBasic(t *testing.T, meta nodeStore, name string) string {
	t.Helper()
	ctx := context.Background()
	reg, _ := meta.Registry(ctx, name)
	s := reg.Settings
	s.AdminUserEnabled = true
	if err := meta.UpdateSettings(ctx, name, s); err != nil {
		t.Fatal(err)
	}
	const pw = "admin-password-for-tests"
	hash, err := auth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := meta.PutSecret(ctx, name, berth.AdminOwner, berth.Secret{Name: "password", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	return pw
}
