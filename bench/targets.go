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
	"sync/atomic"
	"syscall"
	"time"
)

// Target names, used as report columns.
const (
	targetBerth        = "berth"
	targetDistribution = "distribution"
	targetCeiling      = "ceiling"
	targetBerthAuth    = "berth-auth"         // berth with token auth
	targetDistBasic    = "distribution-basic" // Distribution with htpasswd basic auth
	targetDirect       = "berth-direct"       // berth's blobs from the login server
	targetRedirect     = "berth-redirect"     // berth's blobs through the data endpoint
)

// target is one server under test and the client that talks to it.
type target struct {
	name string
	srv  *server
	c    *registryClient
	dir  string // the server's data directory
	// shared is set when srv belongs to another target, which stops it
	// and reports its memory.
	shared bool
	// redirects counts the redirects that c followed.
	redirects atomic.Int64
}

func (t *target) is(name string) bool { return t.name == name }

// newTarget returns a target whose client reaches srv at base; with a
// dialAddr the client connects there whatever host a URL names.
func newTarget(name string, srv *server, dir, base, dialAddr string, conns int, auth authorizer) *target {
	return &target{name: name, srv: srv, dir: dir,
		c: &registryClient{base: base, dial: dialAddr, hc: newHTTPClient(conns, dialAddr), auth: auth}}
}

// ready waits until the target's /v2/ answers with status want, and stops
// the server if it does not.
func (t *target) ready(ctx context.Context, want int) error {
	err := t.srv.waitReady(ctx, t.c.hc, t.c.base+"/v2/", t.c.auth, want, 60*time.Second)
	if err != nil {
		t.srv.stop()
	}
	return err
}

// serverDirs returns a free loopback address and the data directory
// <work>/<name>-data, created.
func serverDirs(work, name string) (addr, dir string, err error) {
	if addr, err = freeAddr(); err != nil {
		return "", "", err
	}
	dir = filepath.Join(work, name+"-data")
	return addr, dir, os.MkdirAll(dir, 0o755)
}

// launchBerth runs `berth serve` with extra arguments on a free loopback
// port with its own data directory, logging to <work>/<name>.log.
func launchBerth(name, bin string, extra []string, work string) (srv *server, addr, dir string, err error) {
	if addr, dir, err = serverDirs(work, name); err != nil {
		return nil, "", "", err
	}
	args := append([]string{"serve", "--listen", addr, "--data-dir", dir}, extra...)
	srv, err = startServer(name, bin, args, nil, filepath.Join(work, name+".log"))
	return srv, addr, dir, err
}

// startBerth runs berth without credentials on the client side: extra
// must turn authentication off.
func startBerth(ctx context.Context, bin string, extra []string, work string, conns int) (*target, error) {
	srv, addr, dir, err := launchBerth(targetBerth, bin, extra, work)
	if err != nil {
		return nil, err
	}
	t := newTarget(targetBerth, srv, dir, "http://"+addr, "", conns, nil)
	return t, t.ready(ctx, http.StatusOK)
}

// startDistribution runs Distribution's registry as target name with a
// generated config.yml. With a non-empty htpasswd file it requires basic
// auth, sent by auth.
func startDistribution(ctx context.Context, name, bin, work, htpasswd string, auth authorizer, conns int) (*target, error) {
	addr, dir, err := serverDirs(work, name)
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(work, name+".yml")
	y := distConfig{addr: addr, root: dir, htpasswd: htpasswd}.yaml()
	if err := os.WriteFile(cfg, []byte(y), 0o644); err != nil {
		return nil, err
	}
	// Tracing stays on as shipped; only the OTLP exporter, which would dial
	// an external collector, is turned off.
	env := []string{"OTEL_TRACES_EXPORTER=none"}
	srv, err := startServer(name, bin, []string{"serve", cfg}, env, filepath.Join(work, name+".log"))
	if err != nil {
		return nil, err
	}
	t := newTarget(name, srv, dir, "http://"+addr, "", conns, auth)
	return t, t.ready(ctx, http.StatusOK)
}

// startCeiling runs this executable as `bench ceiling-serve ADDR DIR`.
func startCeiling(ctx context.Context, work string, conns int) (*target, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, dir, err := serverDirs(work, targetCeiling)
	if err != nil {
		return nil, err
	}
	srv, err := startServer(targetCeiling, exe, []string{"ceiling-serve", addr, dir}, nil,
		filepath.Join(work, "ceiling.log"))
	if err != nil {
		return nil, err
	}
	t := newTarget(targetCeiling, srv, dir, "http://"+addr, "", conns, nil)
	return t, t.ready(ctx, http.StatusOK)
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
