package oci_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth/internal/berth"
	"berth/internal/blobstore/fs"
	"berth/internal/hosts"
	"berth/internal/metadata/sqlite"
	"berth/internal/oci"

	"github.com/opencontainers/go-digest"
)

// env is a berth API over real SQLite and filesystem stores, with two
// registries: "default" (host localhost) and "other" (other.example.com).
type env struct {
	t    *testing.T
	srv  *httptest.Server
	dir  string        // holds meta.db and blobs/
	meta *sqlite.Store // the handler's metadata store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, r := range []berth.Registry{
		{Name: "default", Location: "local", Aliases: []string{"localhost", "127.0.0.1"}, CreatedAt: time.Now()},
		{Name: "other", Location: "local", CreatedAt: time.Now()},
	} {
		if err := meta.CreateRegistry(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := oci.NewHandler(oci.Deps{Hosts: hosts.New(meta, "example.com", time.Second), Meta: meta, Blobs: blobs, Log: log})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, dir: dir, meta: meta}
}

// on returns e reporting to t, for use inside subtests.
func (e *env) on(t *testing.T) *env { return &env{t: t, srv: e.srv, dir: e.dir, meta: e.meta} }

// response is a completed exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to the default registry (host localhost) unless a
// "Host" header is given.
func (e *env) do(method, path string, body []byte, hdr ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Host = "localhost"
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// code returns the first OCI error code of a response body.
func (r response) code() string {
	var b struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(r.body, &b) != nil || len(b.Errors) == 0 {
		return ""
	}
	return b.Errors[0].Code
}

func (e *env) expect(r response, status int, code string) {
	e.t.Helper()
	if r.status != status || (code != "" && r.code() != code) {
		e.t.Fatalf("got %d %s (%s), want %d %s", r.status, r.code(), r.body, status, code)
	}
}

// pushBlob uploads content monolithically to repo and returns its digest.
func (e *env) pushBlob(repo string, content []byte) digest.Digest {
	e.t.Helper()
	d := digest.FromBytes(content)
	r := e.do("POST", "/v2/"+repo+"/blobs/uploads/?digest="+d.String(), content)
	e.expect(r, 201, "")
	return d
}

// image pushes a config and one layer and returns a manifest over them.
func (e *env) image(repo, seed string) ([]byte, digest.Digest) {
	e.t.Helper()
	cfg := []byte(`{"seed":"` + seed + `"}`)
	layer := []byte("layer-" + seed)
	cd, ld := e.pushBlob(repo, cfg), e.pushBlob(repo, layer)
	m := manifestJSON(cd, int64(len(cfg)), ld, int64(len(layer)), "")
	return m, digest.FromBytes(m)
}

func manifestJSON(cfg digest.Digest, cfgSize int64, layer digest.Digest, layerSize int64, extra string) []byte {
	return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]%s}`,
		cfg, cfgSize, layer, layerSize, extra))
}

const ociManifest = "application/vnd.oci.image.manifest.v1+json"

func sha(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

var _ = strings.Repeat
