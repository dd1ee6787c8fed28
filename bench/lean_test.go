package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// staleAuth hands out token "old" until renewed, then "new".
type staleAuth struct{ renewed atomic.Bool }

func (a *staleAuth) authorize(r *http.Request) error {
	tok := "old"
	if a.renewed.Load() {
		tok = "new"
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// renew drops the token only when r carries the one it handed out, as
// tokenAuth does.
func (a *staleAuth) renew(r *http.Request) {
	if r.Header.Get("Authorization") == "Bearer old" {
		a.renewed.Store(true)
	}
}

func TestLeanRater(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer new" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Header.Get("User-Agent") != "berth-bench" || r.Host == "" {
			t.Errorf("request headers %v, host %q", r.Header, r.Host)
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/manifests/hints"):
			w.WriteHeader(http.StatusEarlyHints) // an interim response first
			w.Write([]byte("hello"))
		case strings.HasSuffix(r.URL.Path, "/manifests/close"):
			w.Header().Set("Connection", "close")
			w.Write([]byte("abc"))
		case strings.Contains(r.URL.Path, "/manifests/"):
			if r.Header.Get("Accept") != acceptHeader {
				t.Errorf("Accept %q", r.Header.Get("Accept"))
			}
			w.Write([]byte("hello"))
		case strings.Contains(r.URL.Path, "/blobs/"):
			w.Header().Set("Content-Length", "1234")
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	c := &registryClient{base: srv.URL, hc: srv.Client(), auth: &staleAuth{}}
	rc, err := c.rater(clientLean, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	ctx := context.Background()
	for i := range 3 {
		if err := rc.getManifest(ctx, 0, "a/b", "t1", 5); err != nil {
			t.Fatalf("GET %d: %v", i, err)
		}
		if err := rc.headBlob(ctx, 0, "a/b", "sha256:x", 1234); err != nil {
			t.Fatalf("HEAD %d: %v", i, err)
		}
	}
	if err := rc.getManifest(ctx, 0, "a/b", "hints", 5); err != nil {
		t.Fatalf("GET after a 103: %v", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for one worker's requests, want 1", n)
	}
	if err := rc.getManifest(ctx, 1, "a/b", "close", 3); err != nil {
		t.Fatal(err)
	}
	if err := rc.getManifest(ctx, 1, "a/b", "t1", 5); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3: worker 1 must dial again after Connection: close", n)
	}
	if err := rc.getManifest(ctx, 0, "a/b", "t1", 4); err == nil || !strings.Contains(err.Error(), "want 200 and 4") {
		t.Errorf("wrong length: %v", err)
	}
	if err := rc.headBlob(ctx, 0, "a/b", "sha256:x", 1); err == nil || !strings.Contains(err.Error(), "length 1234, want 1") {
		t.Errorf("wrong HEAD length: %v", err)
	}
}

func TestReadHead(t *testing.T) {
	for _, tc := range []struct {
		in     string
		status int
		n      int64
		keep   bool
		bad    string
	}{
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", status: 200, n: 12, keep: true},
		{in: "HTTP/1.1 404 Not Found\r\ncontent-length:0\r\nConnection: Close\r\n\r\n", status: 404, n: 0},
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive, close\r\n\r\n", status: 200, n: 3},
		{in: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, n: -1, keep: true},
		{in: "HTTP/1.1 202 Accepted\r\nLocation: /v2/a/blobs/uploads/x?s=1\r\nContent-Length: 0\r\n\r\n", status: 202, n: 0, keep: true},
		{in: "HTTP/1.0 200 OK\r\n\r\n", bad: "bad status line"},
		{in: "HTTP/1.1 2x0 OK\r\n\r\n", bad: "bad status line"},
		{in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", bad: "bad Content-Length"},
		{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", bad: "not supported"},
		{in: "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", bad: "bad header line"},
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", bad: "EOF"},
	} {
		r, keep, err := readHead(bufio.NewReader(strings.NewReader(tc.in)))
		status, n := r.status, r.length
		if tc.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.bad)
			}
			continue
		}
		if err != nil || status != tc.status || n != tc.n || keep != tc.keep {
			t.Errorf("%q: %d %d %v %v, want %d %d %v", tc.in, status, n, keep, err, tc.status, tc.n, tc.keep)
		}
	}
}

// TestLeanPush pushes an image with the lean client to a real registry
// handler stand-in that checks what the protocol needs: HEAD, POST, PUT
// with the digest and the body, then the manifest.
func TestLeanPush(t *testing.T) {
	var mu sync.Mutex
	blobs := map[string][]byte{}
	var manifests, posts int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/blobs/"):
			d := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
			if _, ok := blobs[d]; !ok {
				w.WriteHeader(http.StatusNotFound)
			}
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/"):
			// Relative, absolute path and absolute URL in turn, as
			// registries send them.
			posts++
			w.Header().Set("Location", []string{"u1?state=abc", r.URL.Path + "u1?state=abc",
				"http://" + r.Host + r.URL.Path + "u1?state=abc"}[posts%3])
			w.WriteHeader(http.StatusAccepted)
		case r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/u1"):
			d := r.URL.Query().Get("digest")
			if r.URL.Query().Get("state") != "abc" || digestOf(body) != d {
				t.Errorf("PUT %s with %d bytes", r.URL, len(body))
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			blobs[d] = body
			w.WriteHeader(http.StatusCreated)
		case r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/"):
			if r.Header.Get("Content-Type") != mediaManifest || len(body) == 0 {
				t.Errorf("manifest PUT: %q, %d bytes", r.Header.Get("Content-Type"), len(body))
			}
			manifests++
			w.WriteHeader(http.StatusCreated)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	c := &registryClient{base: srv.URL, hc: srv.Client()}
	rc, err := c.rater(clientLean, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	var want int
	for i := range 3 {
		img := smallImage(1, i)
		want += 1 + len(img.layers)
		for range 2 {
			if err := rc.push(context.Background(), 0, "a/b", "v1", img); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(blobs) != want || manifests != 6 {
		t.Errorf("%d blobs and %d manifest PUTs, want %d and 6", len(blobs), manifests, want)
	}
}
