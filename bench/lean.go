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
	"strconv"
	"sync"
	"time"
)

// rater sends the requests of the workloads of many small requests
// (manifest GET, blob HEAD, small-image push) for worker w of a loop.
// Workers must not share a w.
type rater interface {
	getManifest(ctx context.Context, w int, repo, ref string, size int) error
	headBlob(ctx context.Context, w int, repo, digest string, size int64) error
	push(ctx context.Context, w int, repo, tag string, img image) error
	close()
}

// Client kinds for those workloads (-client).
const (
	clientLean = "lean"
	clientStd  = "std"
)

// rater returns the client of such a workload of workers workers: with
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

func (s stdRater) push(ctx context.Context, _ int, repo, tag string, img image) error {
	return s.c.push(ctx, repo, tag, img)
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

	auth sync.Map // request path's scope → Authorization header value
}

const leanTimeout = time.Minute

// Header lines the lean client sends, built once.
const (
	leanAccept       = "Accept: " + acceptHeader + "\r\n"
	leanManifestType = "Content-Type: " + mediaManifest + "\r\n"
	leanOctetStream  = "Content-Type: application/octet-stream\r\n"
)

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
	r, err := l.do(ctx, w, http.MethodGet, path, leanAccept, nil)
	if err != nil {
		return err
	}
	if r.status != http.StatusOK || r.length != int64(size) {
		return fmt.Errorf("GET manifest %s:%s: status %d, %d bytes, want 200 and %d", repo, ref, r.status, r.length, size)
	}
	return nil
}

func (l *leanRater) headBlob(ctx context.Context, w int, repo, digest string, size int64) error {
	r, err := l.do(ctx, w, http.MethodHead, "/v2/"+repo+"/blobs/"+digest, "", nil)
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return fmt.Errorf("HEAD %s: status %d, want 200", digest, r.status)
	}
	if r.length != size {
		return fmt.Errorf("HEAD %s: length %d, want %d", digest, r.length, size)
	}
	return nil
}

// push uploads img as registryClient.push does: per blob a HEAD, and when
// it is missing a POST and a PUT with the body; then the manifest.
func (l *leanRater) push(ctx context.Context, w int, repo, tag string, img image) error {
	for _, b := range append([][]byte{img.config}, img.layers...) {
		if err := l.pushSmall(ctx, w, repo, b); err != nil {
			return err
		}
	}
	path := "/v2/" + repo + "/manifests/" + tag
	r, err := l.do(ctx, w, http.MethodPut, path, leanManifestType, img.manifest)
	if err != nil {
		return err
	}
	if r.status != http.StatusCreated {
		return fmt.Errorf("PUT %s: status %d, want 201", path, r.status)
	}
	return nil
}

func (l *leanRater) pushSmall(ctx context.Context, w int, repo string, blob []byte) error {
	digest := digestOf(blob)
	r, err := l.do(ctx, w, http.MethodHead, "/v2/"+repo+"/blobs/"+digest, "", nil)
	if err != nil || r.status == http.StatusOK {
		return err
	}
	if r.status != http.StatusNotFound {
		return fmt.Errorf("HEAD blob %s: status %d, want 200 or 404", digest, r.status)
	}
	path := "/v2/" + repo + "/blobs/uploads/"
	if r, err = l.do(ctx, w, http.MethodPost, path, "", nil); err != nil {
		return err
	}
	if r.status != http.StatusAccepted || r.location == "" {
		return fmt.Errorf("POST %s: status %d, Location %q, want 202 and a Location", path, r.status, r.location)
	}
	loc, err := url.Parse(r.location)
	if err != nil {
		return fmt.Errorf("POST %s: Location: %w", path, err)
	}
	loc = (&url.URL{Scheme: "http", Host: l.host, Path: path}).ResolveReference(loc)
	if loc.Host != l.host {
		return fmt.Errorf("POST %s: Location %q is on another host", path, r.location)
	}
	addDigest(loc, digest)
	path = loc.RequestURI()
	if r, err = l.do(ctx, w, http.MethodPut, path, leanOctetStream, blob); err != nil {
		return err
	}
	if r.status != http.StatusCreated {
		return fmt.Errorf("PUT blob %s: status %d, want 201", digest, r.status)
	}
	return nil
}

// leanResponse is what the rate workloads read of a response.
type leanResponse struct {
	status   int
	length   int64  // Content-Length, -1 if absent
	location string // Location, "" if absent
}

// do sends one request, with body unless it is nil, on worker w's
// connection; the response body is read and skipped unless the request is
// a HEAD. With credentials it sends the Authorization header that the
// client's authorizer gives for path, and after a 401 renews it and sends
// once more.
func (l *leanRater) do(ctx context.Context, w int, method, path, hdr string, body []byte) (leanResponse, error) {
	if err := ctx.Err(); err != nil {
		return leanResponse{}, err
	}
	authz, err := l.authorization(ctx, path, "")
	if err != nil {
		return leanResponse{}, err
	}
	r, err := l.roundTrip(w, method, path, hdr, authz, body)
	if err != nil || r.status != http.StatusUnauthorized || authz == "" {
		return r, err
	}
	if authz, err = l.authorization(ctx, path, authz); err != nil {
		return leanResponse{}, err
	}
	return l.roundTrip(w, method, path, hdr, authz, body)
}

// authorization returns the Authorization header value for path, or "" when
// the client sends no credentials. stale is the value that a 401 answered,
// for the authorizer to drop; "" when there was none.
func (l *leanRater) authorization(ctx context.Context, path, stale string) (string, error) {
	if l.c.auth == nil {
		return "", nil
	}
	scope := scopeOf(path)
	if stale == "" {
		if h, ok := l.auth.Load(scope); ok {
			return h.(string), nil
		}
	}
	// The authorizer fetches outside any lock of this client, and fetches
	// a scope once however many workers ask for it at the same time.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.c.base+path, nil)
	if err != nil {
		return "", err
	}
	if r, ok := l.c.auth.(renewer); ok && stale != "" {
		req.Header.Set("Authorization", stale)
		r.renew(req)
		req.Header.Del("Authorization")
	}
	if err := l.c.auth.authorize(req); err != nil {
		return "", err
	}
	h := req.Header.Get("Authorization")
	l.auth.Store(scope, h)
	return h, nil
}

// roundTrip writes one request on worker w's connection, dialling it first
// if needed, and reads the response. Any error closes the connection.
func (l *leanRater) roundTrip(w int, method, path, hdr, authz string, body []byte) (leanResponse, error) {
	lc := l.conns[w]
	if lc == nil {
		lc = &leanConn{}
		l.conns[w] = lc
	}
	if lc.conn == nil {
		c, err := net.DialTimeout("tcp", l.dial, 5*time.Second)
		if err != nil {
			return leanResponse{}, err
		}
		lc.conn, lc.br = c, bufio.NewReaderSize(c, 16<<10)
	}
	r, keep, err := lc.exchange(l.host, method, path, hdr, authz, body)
	if err != nil {
		err = fmt.Errorf("%s %s: %w", method, path, err)
	}
	if err != nil || !keep {
		lc.conn.Close()
		lc.conn = nil
	}
	return r, err
}

// exchange does the work of roundTrip on an open connection; keep reports
// whether the connection can carry another request.
func (lc *leanConn) exchange(host, method, path, hdr, authz string, body []byte) (r leanResponse, keep bool, err error) {
	lc.req = append(lc.req[:0], method...)
	lc.req = append(lc.req, ' ')
	lc.req = append(lc.req, path...)
	lc.req = append(lc.req, " HTTP/1.1\r\nHost: "...)
	lc.req = append(lc.req, host...)
	lc.req = append(lc.req, "\r\nUser-Agent: berth-bench\r\n"...)
	lc.req = append(lc.req, hdr...)
	if authz != "" {
		lc.req = append(lc.req, "Authorization: "...)
		lc.req = append(lc.req, authz...)
		lc.req = append(lc.req, "\r\n"...)
	}
	if body != nil || method == http.MethodPost || method == http.MethodPut {
		lc.req = append(lc.req, "Content-Length: "...)
		lc.req = strconv.AppendInt(lc.req, int64(len(body)), 10)
		lc.req = append(lc.req, "\r\n"...)
	}
	lc.req = append(lc.req, "\r\n"...)
	lc.req = append(lc.req, body...)
	if err := lc.conn.SetDeadline(time.Now().Add(leanTimeout)); err != nil {
		return r, false, err
	}
	if _, err := lc.conn.Write(lc.req); err != nil {
		return r, false, err
	}
	for {
		r, keep, err = readHead(lc.br)
		// An interim 1xx response precedes the real one.
		if err != nil || r.status >= 200 {
			break
		}
	}
	if err != nil || method == http.MethodHead || r.status == http.StatusNoContent || r.status == http.StatusNotModified {
		return r, keep, err
	}
	if r.length < 0 {
		return r, false, errors.New("response has no Content-Length")
	}
	if _, err := lc.br.Discard(int(r.length)); err != nil {
		return r, false, fmt.Errorf("body: %w", err)
	}
	return r, keep, nil
}

// readHead reads a response's status line and headers, and whether the
// server keeps the connection open.
func readHead(br *bufio.Reader) (r leanResponse, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return r, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return r, false, fmt.Errorf("bad status line %q", line)
	}
	if r.status = decimal(line[9:12]); r.status < 0 {
		return r, false, fmt.Errorf("bad status line %q", line)
	}
	r.length, keep = -1, true
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return r, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return r, keep, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return r, false, fmt.Errorf("bad header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, hdrContentLength):
			if r.length = int64(decimal(value)); r.length < 0 {
				return r, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, hdrLocation):
			r.location = string(value)
		case bytes.EqualFold(name, hdrTransferEncoding):
			return r, false, fmt.Errorf("Transfer-Encoding %q is not supported", value)
		case bytes.EqualFold(name, hdrConnection):
			for _, tok := range bytes.Split(value, []byte(",")) {
				if bytes.EqualFold(bytes.TrimSpace(tok), tokenClose) {
					keep = false
				}
			}
		}
	}
}

var (
	hdrContentLength    = []byte("Content-Length")
	hdrTransferEncoding = []byte("Transfer-Encoding")
	hdrConnection       = []byte("Connection")
	hdrLocation         = []byte("Location")
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
