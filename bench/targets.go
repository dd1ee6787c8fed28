package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// Target names, used as report columns.
const (
	targetBerth        = "berth"
	targetDistribution = "distribution"
	targetCeiling      = "ceiling"
)

// target is one server under test and the client that talks to it.
type target struct {
	name string
	srv  *server
	c    *registryClient
	dir  string // the server's data directory
}

func (t *target) is(name string) bool { return t.name == name }

// startBerth runs `berth serve` with extra arguments on a free loopback port
// with its own data directory.
func startBerth(ctx context.Context, bin string, extra []string, work string, conns int) (*target, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(work, "berth-data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--listen", addr, "--data-dir", dir}, extra...)
	srv, err := startServer(targetBerth, bin, args, nil, filepath.Join(work, "berth.log"))
	if err != nil {
		return nil, err
	}
	return ready(ctx, targetBerth, srv, addr, dir, conns, nil)
}

// startDistribution runs Distribution's registry with a generated config.yml.
// With a non-empty htpasswd file it requires basic auth, sent by auth.
func startDistribution(ctx context.Context, bin, work, htpasswd string, auth authorizer, conns int) (*target, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(work, "distribution-data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfg := filepath.Join(work, "distribution.yml")
	y := distConfig{addr: addr, root: dir, htpasswd: htpasswd}.yaml()
	if err := os.WriteFile(cfg, []byte(y), 0o644); err != nil {
		return nil, err
	}
	// Tracing stays on as shipped; only the OTLP exporter, which would dial
	// an external collector, is turned off.
	env := []string{"OTEL_TRACES_EXPORTER=none"}
	srv, err := startServer(targetDistribution, bin, []string{"serve", cfg}, env,
		filepath.Join(work, "distribution.log"))
	if err != nil {
		return nil, err
	}
	return ready(ctx, targetDistribution, srv, addr, dir, conns, auth)
}

// startCeiling runs this executable as `bench ceiling-serve ADDR DIR`.
func startCeiling(ctx context.Context, work string, conns int) (*target, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(work, "ceiling-data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	srv, err := startServer(targetCeiling, exe, []string{"ceiling-serve", addr, dir}, nil,
		filepath.Join(work, "ceiling.log"))
	if err != nil {
		return nil, err
	}
	return ready(ctx, targetCeiling, srv, addr, dir, conns, nil)
}

func ready(ctx context.Context, name string, srv *server, addr, dir string, conns int, auth authorizer) (*target, error) {
	t := &target{name: name, srv: srv, dir: dir,
		c: &registryClient{base: "http://" + addr, hc: newHTTPClient(conns), auth: auth}}
	if err := srv.waitReady(ctx, t.c.hc, t.c.base+"/v2/", auth, 60*time.Second); err != nil {
		srv.stop()
		return nil, err
	}
	return t, nil
}

// ceilingPut stores body as file name on the ceiling server.
func (t *target) ceilingPut(ctx context.Context, name string, body io.Reader, size int64) error {
	_, err := t.c.call(ctx, http.MethodPut, t.c.base+"/files/"+name, body, size, octet, http.StatusCreated)
	return err
}

// ceilingGet reads file name from the ceiling server and checks its length.
func (t *target) ceilingGet(ctx context.Context, name string, size int64, buf []byte) error {
	return t.c.get(ctx, t.c.base+"/files/"+name, size, buf)
}

// serveCeiling is the plain HTTP server the registries are measured against:
// GET /files/{name} is http.ServeFile; PUT /files/{name} streams the body into
// the file while hashing it with SHA-256, then fsyncs; GET /v2/ answers 200.
func serveCeiling(args []string, stderr io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: bench ceiling-serve ADDR DIR")
	}
	addr, dir := args[0], args[1]
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /files/{name}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(dir, filepath.Base(r.PathValue("name"))))
	})
	mux.HandleFunc("PUT /files/{name}", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		digest, synced, err := storeHashed(filepath.Join(dir, filepath.Base(r.PathValue("name"))), r.Body)
		fmt.Fprintf(stderr, "PUT %s: %d bytes, received and written in %s, fsync %s\n", r.PathValue("name"),
			r.ContentLength, synced.Sub(start).Round(time.Millisecond), time.Since(synced).Round(time.Millisecond))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Docker-Content-Digest", digest)
		w.WriteHeader(http.StatusCreated)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, err)
		return err
	}
	return nil
}

// storeHashed writes body to a new file at path while hashing it, then
// fsyncs the file. It returns the digest and when the fsync began.
func storeHashed(path string, body io.Reader) (string, time.Time, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", time.Now(), err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	if _, err := io.CopyBuffer(io.MultiWriter(f, h), body, buf); err != nil {
		return "", time.Now(), err
	}
	synced := time.Now()
	if err := f.Sync(); err != nil {
		return "", synced, err
	}
	return digestString(h), synced, f.Close()
}
