package e2e

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// TestTenants checks that the Host header picks the registry: the default
// registry answers as localhost, 127.0.0.1 and default.localhost, a second
// registry answers only as its own name, neither sees the other's content,
// and an unknown host gets an OCI error, not someone's data.
func TestTenants(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--registry", "contoso")
	port := strings.TrimPrefix(s.addr(), "127.0.0.1:")
	ctx := testContext(t, time.Minute)
	// Every host name of the test reaches this server.
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, s.addr())
	}
	opts := remoteOptions(ctx, remote.WithTransport(tr))

	contoso := "contoso.localhost:" + port
	img := ociImage(t, 2, 4096)
	want := digestOf(t, img)
	if err := remote.Write(parseRef(t, contoso+"/app:v1"), img, opts...); err != nil {
		t.Fatalf("pushing to %s: %v", contoso, err)
	}
	got, err := remote.Image(parseRef(t, contoso+"/app:v1"), opts...)
	if err != nil {
		t.Fatalf("pulling from %s: %v", contoso, err)
	}
	if err := validate.Image(got); err != nil || digestOf(t, got) != want {
		t.Errorf("pulled from %s: digest %s, validate: %v; want %s", contoso, digestOf(t, got), err, want)
	}

	// The default registry, under each of its names, has none of it.
	layer := layerDigests(t, img)[0]
	for _, h := range []string{"127.0.0.1", "localhost", "default.localhost"} {
		host := h + ":" + port
		if _, err := remote.Head(parseRef(t, host+"/app:v1"), opts...); statusCode(err) != http.StatusNotFound {
			t.Errorf("HEAD %s/app:v1 (pushed to contoso only): err = %v, want 404", host, err)
		}
		hdr := http.Header{"Host": {host}}
		resp, body := do(t, http.MethodGet, s.url("/v2/app/blobs/"+layer.String()), nil, hdr)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET a contoso blob as %s: %s %s, want 404", host, resp.Status, body)
		}
		resp, _ = do(t, http.MethodPost, s.url("/v2/app/blobs/uploads/?mount="+layer.String()+"&from=app"), nil, hdr)
		if resp.StatusCode == http.StatusCreated {
			t.Errorf("mounting a contoso blob into %s: %s, want no mount (202)", host, resp.Status)
		}
		resp, body = do(t, http.MethodGet, s.url("/v2/"), nil, hdr)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /v2/ as %s: %s %s, want 200", host, resp.Status, body)
		}
	}

	// What is pushed under one name of the default registry is there
	// under the others, and not in contoso.
	other := ociImage(t, 1, 4096)
	if err := remote.Write(parseRef(t, "default.localhost:"+port+"/lib:v1"), other, opts...); err != nil {
		t.Fatalf("pushing to default.localhost: %v", err)
	}
	if d, err := remote.Head(parseRef(t, s.addr()+"/lib:v1"), opts...); err != nil || d.Digest != digestOf(t, other) {
		t.Errorf("HEAD 127.0.0.1/lib:v1 after pushing it as default.localhost: %+v, %v", d, err)
	}
	if _, err := remote.Head(parseRef(t, contoso+"/lib:v1"), opts...); statusCode(err) != http.StatusNotFound {
		t.Errorf("HEAD %s/lib:v1 (pushed to default only): err = %v, want 404", contoso, err)
	}

	// An unknown host is refused with an OCI error body.
	for _, host := range []string{"nosuch.localhost:" + port, "contoso.example.com:" + port} {
		resp, body := do(t, http.MethodGet, s.url("/v2/app/manifests/v1"), nil, http.Header{"Host": {host}})
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"errors"`) {
			t.Errorf("GET /v2/app/manifests/v1 as %s: %s %s, want 404 with an OCI error body", host, resp.Status, body)
		}
	}
}
