package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
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

func (a *staleAuth) renew(*http.Request) { a.renewed.Store(true) }

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
		{in: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, n: -1, keep: true},
		{in: "HTTP/1.0 200 OK\r\n\r\n", bad: "bad status line"},
		{in: "HTTP/1.1 2x0 OK\r\n\r\n", bad: "bad status line"},
		{in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", bad: "bad Content-Length"},
		{in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", bad: "not supported"},
		{in: "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", bad: "bad header line"},
		{in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", bad: "EOF"},
	} {
		status, n, keep, err := readHead(bufio.NewReader(strings.NewReader(tc.in)))
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
