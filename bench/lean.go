package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// rater sends the requests of the rate workloads (manifest GET, blob HEAD)
// for worker w of a closed loop. Workers must not share a w.
type rater interface {
	getManifest(ctx context.Context, w int, repo, ref string, size int) error
	headBlob(ctx context.Context, w int, repo, digest string, size int64) error
	close()
}

// Client kinds for the rate workloads (-client).
const (
	clientLean = "lean"
	clientStd  = "std"
)

// rater returns the client of a rate workload of workers workers: with
// kind clientStd the registry client itself (net/http), with clientLean a
// connection of its own per worker (see leanRater).
func (c *registryClient) rater(kind string, workers int) (rater, error) {
	switch kind {
	case clientStd:
		return stdRater{c}, nil
	case clientLean:
		u, err := url.Parse(c.base)
		if err != nil {
			return nil, err
		}
		dial := c.dial
		if dial == "" {
			dial = u.Host
		}
		return &leanRater{c: c, host: u.Host, dial: dial, conns: make([]*leanConn, workers)}, nil
	}
	return nil, fmt.Errorf("unknown client %q: want %s or %s", kind, clientLean, clientStd)
}

// stdRater sends through the registry client's net/http client.
type stdRater struct{ c *registryClient }

func (s stdRater) getManifest(ctx context.Context, _ int, repo, ref string, size int) error {
	return s.c.getManifest(ctx, repo, ref, size)
}

func (s stdRater) headBlob(ctx context.Context, _ int, repo, digest string, size int64) error {
	return s.c.headBlob(ctx, repo, digest, size)
}

func (stdRater) close() {}

// leanRater gives every worker one keep-alive HTTP/1.1 connection that the
// worker drives itself: it writes a request, reads the response's status
// line and headers, and skips the body by its Content-Length. net/http's
// client runs two goroutines per connection and hands every request and
// response between them and the caller; at tens of thousands of requests a
// second that costs the client about as much CPU as a fast server spends,
// and on a machine whose cores client and server share, it is taken from
// the server. Both registries get the same client, so the ratios stay fair;
// what changes is how much of the machine is left to the server.
type leanRater struct {
	c     *registryClient
	host  string // the Host header
	dial  string // where to connect
	conns []*leanConn

	mu   sync.Mutex
	auth map[string]string // Authorization header by request path's scope
}

const leanTimeout = time.Minute

// leanConn is one worker's connection; nil conn means not yet dialled.
type leanConn struct {
	conn net.Conn
	br   *bufio.Reader
	req  []byte
}

func (l *leanRater) close() {
	for _, lc := range l.conns {
		if lc != nil && lc.conn != nil {
			lc.conn.Close()
		}
	}
}

func (l *leanRater) getManifest(ctx context.Context, w int, repo, ref string, size int) error {
	path := "/v2/" + repo + "/manifests/" + ref
	status, n, err := l.do(ctx, w, http.MethodGet, path, "Accept: "+acceptHeader+"\r\n")
	if err != nil {
		return err
	}
	if status != http.StatusOK || n != int64(size) {
		return fmt.Errorf("GET manifest %s:%s: status %d, %d bytes, want 200 and %d", repo, ref, status, n, size)
	}
	return nil
}

func (l *leanRater) headBlob(ctx context.Context, w int, repo, digest string, size int64) error {
	status, n, err := l.do(ctx, w, http.MethodHead, "/v2/"+repo+"/blobs/"+digest, "")
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("HEAD %s: status %d, want 200", digest, status)
	}
	if n != size {
		return fmt.Errorf("HEAD %s: length %d, want %d", digest, n, size)
	}
	return nil
}

// do sends one request on worker w's connection and returns the status and
// the Content-Length of the response; a GET's body is read and skipped.
// With credentials it sends the Authorization header that the client's
// authorizer gives for path, and after a 401 renews it and sends once more.
func (l *leanRater) do(ctx context.Context, w int, method, path, hdr string) (int, int64, error) {
	authz, err := l.authorization(ctx, path, false)
	if err != nil {
		return 0, 0, err
	}
	status, n, err := l.roundTrip(w, method, path, hdr+authz)
	if err != nil || status != http.StatusUnauthorized || authz == "" {
		return status, n, err
	}
	if authz, err = l.authorization(ctx, path, true); err != nil {
		return 0, 0, err
	}
	return l.roundTrip(w, method, path, hdr+authz)
}

// authorization returns the Authorization header line for path, or "" when
// the client sends no credentials. renew asks for fresh ones.
func (l *leanRater) authorization(ctx context.Context, path string, renew bool) (string, error) {
	if l.c.auth == nil {
		return "", nil
	}
	scope := scopeOf(path)
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.auth[scope]; ok && !renew {
		return h, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.c.base+path, nil)
	if err != nil {
		return "", err
	}
	if r, ok := l.c.auth.(renewer); ok && renew {
		r.renew(req)
	}
	if err := l.c.auth.authorize(req); err != nil {
		return "", err
	}
	h := "Authorization: " + req.Header.Get("Authorization") + "\r\n"
	if l.auth == nil {
		l.auth = map[string]string{}
	}
	l.auth[scope] = h
	return h, nil
}

// roundTrip writes one request on worker w's connection, dialling it first
// if needed, and reads the response. Any error closes the connection.
func (l *leanRater) roundTrip(w int, method, path, hdr string) (int, int64, error) {
	lc := l.conns[w]
	if lc == nil {
		lc = &leanConn{}
		l.conns[w] = lc
	}
	if lc.conn == nil {
		c, err := net.DialTimeout("tcp", l.dial, 5*time.Second)
		if err != nil {
			return 0, 0, err
		}
		lc.conn, lc.br = c, bufio.NewReaderSize(c, 16<<10)
	}
	status, n, keep, err := lc.exchange(l.host, method, path, hdr)
	if err != nil {
		err = fmt.Errorf("%s %s: %w", method, path, err)
	}
	if err != nil || !keep {
		lc.conn.Close()
		lc.conn = nil
	}
	return status, n, err
}

// exchange does the work of roundTrip on an open connection; keep reports
// whether the connection can carry another request.
func (lc *leanConn) exchange(host, method, path, hdr string) (status int, n int64, keep bool, err error) {
	lc.req = append(lc.req[:0], method...)
	lc.req = append(lc.req, ' ')
	lc.req = append(lc.req, path...)
	lc.req = append(lc.req, " HTTP/1.1\r\nHost: "...)
	lc.req = append(lc.req, host...)
	lc.req = append(lc.req, "\r\nUser-Agent: berth-bench\r\n"...)
	lc.req = append(lc.req, hdr...)
	lc.req = append(lc.req, "\r\n"...)
	if err := lc.conn.SetDeadline(time.Now().Add(leanTimeout)); err != nil {
		return 0, 0, false, err
	}
	if _, err := lc.conn.Write(lc.req); err != nil {
		return 0, 0, false, err
	}
	status, n, keep, err = readHead(lc.br)
	if err != nil || method == http.MethodHead {
		return status, n, keep, err
	}
	if n < 0 {
		return status, n, false, errors.New("response has no Content-Length")
	}
	if _, err := lc.br.Discard(int(n)); err != nil {
		return status, n, false, fmt.Errorf("body: %w", err)
	}
	return status, n, keep, nil
}

// readHead reads a response's status line and headers. It returns the
// status, the Content-Length (-1 if absent) and whether the server keeps the
// connection open.
func readHead(br *bufio.Reader) (status int, n int64, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, 0, false, fmt.Errorf("bad status line %q", line)
	}
	if status = decimal(line[9:12]); status < 0 {
		return 0, 0, false, fmt.Errorf("bad status line %q", line)
	}
	n, keep = -1, true
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return status, n, keep, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, 0, false, fmt.Errorf("bad header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, hdrContentLength):
			if n = int64(decimal(value)); n < 0 {
				return 0, 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, hdrTransferEncoding):
			return 0, 0, false, fmt.Errorf("Transfer-Encoding %q is not supported", value)
		case bytes.EqualFold(name, hdrConnection):
			keep = !bytes.EqualFold(value, tokenClose)
		}
	}
}

var (
	hdrContentLength    = []byte("Content-Length")
	hdrTransferEncoding = []byte("Transfer-Encoding")
	hdrConnection       = []byte("Connection")
	tokenClose          = []byte("close")
)

// decimal returns the value of b, one to 15 ASCII digits, or -1.
func decimal(b []byte) int {
	if len(b) == 0 || len(b) > 15 {
		return -1
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		v = v*10 + int(c-'0')
	}
	return v
}
