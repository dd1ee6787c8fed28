package dataendpoint

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// clientTo returns an HTTP client that sends every request, whatever its
// host name, to srv.
func clientTo(srv *httptest.Server) *http.Client {
	addr := strings.TrimPrefix(srv.URL, "http://")
	return &http.Client{
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestLocatorURLServesTheBlob follows the data path: the login server's
// Locator makes the URL, a client fetches it from the data endpoint, and
// receives exactly the blob while the audit trail records who fetched it.
func TestLocatorURLServesTheBlob(t *testing.T) {
	e := newEnv(t)
	loc, err := NewLocator(e.signer, LocatorConfig{Domain: testDomain, Region: "eastus", BindClientAddr: true})
	if err != nil {
		t.Fatal(err)
	}
	port := e.srvs["eastus"].URL[strings.LastIndexByte(e.srvs["eastus"].URL, ':')+1:]
	login := httptest.NewRequest("GET", "/v2/team/app/blobs/"+e.dgst["d1"].String(), nil)
	login.Host = "contoso.example.com:" + port
	login.RemoteAddr = "127.0.0.1:40000"
	reg := berth.Registry{Name: "contoso", Settings: berth.Settings{DataEndpointEnabled: true}}
	p := berth.Principal{Kind: berth.PrincipalToken, Name: "ci", Registry: "contoso"}
	u, err := loc.BlobURL(login, reg, "team/app", e.dgst["d1"], p)
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://contoso.eastus.data.example.com:" + port + "/v2/team/app/blobs/" + e.dgst["d1"].String() + "?bt="; !strings.HasPrefix(u, want) {
		t.Fatalf("BlobURL = %s, want prefix %s", u, want)
	}

	resp, err := clientTo(e.srvs["eastus"]).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, e.blobs["d1"]) {
		t.Fatalf("GET %s = %d, %d bytes; want 200 with the %d bytes of the blob", u, resp.StatusCode, len(body), len(e.blobs["d1"]))
	}
	if digest.FromBytes(body) != e.dgst["d1"] {
		t.Fatal("served bytes do not match the digest")
	}
	for h, want := range map[string]string{
		"Content-Type":          "application/octet-stream",
		"Content-Length":        strconv.Itoa(len(e.blobs["d1"])),
		"Docker-Content-Digest": e.dgst["d1"].String(),
		"Etag":                  `"` + e.dgst["d1"].String() + `"`,
		"Accept-Ranges":         "bytes",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	cc := resp.Header.Get("Cache-Control")
	age, err := strconv.Atoi(strings.TrimPrefix(cc, "private, max-age="))
	if err != nil || age < 590 || age > 600 {
		t.Errorf("Cache-Control = %q, want private and at most the token's remaining 600s", cc)
	}

	recs := e.audits["eastus"].wait(1)
	if len(recs) != 1 {
		t.Fatalf("audit records = %+v, want 1", recs)
	}
	r := recs[0]
	if r.Identity != "token:ci@contoso" || r.ClientAddr != "127.0.0.1" || r.Registry != "contoso" || r.Region != "eastus" ||
		r.Repository != "team/app" || r.Digest != e.dgst["d1"] || r.Bytes != int64(len(e.blobs["d1"])) ||
		r.Status != 200 || r.Method != "GET" || time.Since(r.Time) > time.Minute {
		t.Errorf("audit record = %+v", r)
	}
	if n := len(e.audits["westus"].all()); n != 0 {
		t.Errorf("region westus audited %d records of a blob it did not serve", n)
	}
}

func TestRanges(t *testing.T) {
	e := newEnv(t)
	blob := e.blobs["d1"]
	size := int64(len(blob))
	tok := e.mint(Claims{})
	target := e.blobPath("team/app", "d1", tok)
	host := dataHost("contoso", "eastus")
	served := 0
	for _, tc := range []struct {
		rng        string
		status     int
		start, end int64 // inclusive; for 206
	}{
		{"bytes=0-0", 206, 0, 0},
		{"bytes=10-19", 206, 10, 19},
		{"bytes=4000-", 206, 4000, size - 1},
		{"bytes=-17", 206, size - 17, size - 1},
		{"bytes=-999999", 206, 0, size - 1},
		{"bytes=100-999999", 206, 100, size - 1},
		{"bytes=" + strconv.FormatInt(size-1, 10) + "-", 206, size - 1, size - 1},
		{"bytes=5-2", 200, 0, 0},
		{"bytes=0-1,3-4", 200, 0, 0},
		{"items=0-1", 200, 0, 0},
		{"bytes=+1-2", 200, 0, 0},
		{"bytes=" + strconv.FormatInt(size, 10) + "-", 416, 0, 0},
		{"bytes=-0", 416, 0, 0},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			r := e.on(t).raw("eastus", method, target, host, "Range: "+tc.rng)
			if r.status < 300 {
				served++
			}
			if r.status != tc.status {
				t.Errorf("%s Range %s = %d %s, want %d", method, tc.rng, r.status, r.message(), tc.status)
				continue
			}
			switch tc.status {
			case 206:
				want := "bytes " + strconv.FormatInt(tc.start, 10) + "-" + strconv.FormatInt(tc.end, 10) + "/" + strconv.FormatInt(size, 10)
				if got := r.header.Get("Content-Range"); got != want {
					t.Errorf("%s Range %s: Content-Range %q, want %q", method, tc.rng, got, want)
				}
				if got := r.header.Get("Content-Length"); got != strconv.FormatInt(tc.end-tc.start+1, 10) {
					t.Errorf("%s Range %s: Content-Length %s", method, tc.rng, got)
				}
				if method == "GET" && !bytes.Equal(r.body, blob[tc.start:tc.end+1]) {
					t.Errorf("Range %s: body of %d bytes is not bytes %d-%d", tc.rng, len(r.body), tc.start, tc.end)
				}
			case 200:
				if method == "GET" && !bytes.Equal(r.body, blob) {
					t.Errorf("Range %s (ignored): body is not the blob", tc.rng)
				}
			case 416:
				if got := r.header.Get("Content-Range"); got != "bytes */"+strconv.FormatInt(size, 10) {
					t.Errorf("Range %s: Content-Range %q", tc.rng, got)
				}
			}
			if method == "HEAD" && len(r.body) != 0 {
				t.Errorf("HEAD Range %s has a body", tc.rng)
			}
		}
	}
	recs := e.audits["eastus"].wait(served)
	if len(recs) != served {
		t.Errorf("%d audit records for %d served responses", len(recs), served)
	}
	for _, rec := range recs {
		if rec.Method == "HEAD" && rec.Bytes != 0 || rec.Status != 200 && rec.Status != 206 {
			t.Errorf("audit record %+v", rec)
		}
	}
}

func TestHead(t *testing.T) {
	e := newEnv(t)
	r := e.raw("eastus", "HEAD", e.blobPath("team/app", "d2", e.mint(Claims{Digest: e.dgst["d2"]})), dataHost("contoso", "eastus"))
	if r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Length") != "100" ||
		r.header.Get("Docker-Content-Digest") != e.dgst["d2"].String() {
		t.Fatalf("HEAD = %d %v, %d body bytes", r.status, r.header, len(r.body))
	}
	recs := e.audits["eastus"].wait(1)
	if len(recs) != 1 || recs[0].Method != "HEAD" || recs[0].Bytes != 0 || recs[0].Status != 200 {
		t.Fatalf("audit of HEAD = %+v", recs)
	}
}

// failingBlobs is a BlobReader whose every call fails with err.
type failingBlobs struct{ err error }

func (f failingBlobs) Stat(context.Context, string, digest.Digest) (int64, error) { return 0, f.err }
func (f failingBlobs) Get(context.Context, string, digest.Digest, int64, int64) (io.ReadCloser, error) {
	return nil, f.err
}

func TestStoreFailures(t *testing.T) {
	s, _, _ := newSigner(t, SignerConfig{})
	s.now = time.Now
	tok := mustMint(t, s, testClaims())
	for _, tc := range []struct {
		err    error
		status int
		code   string
		secret bool // the cause must not reach the client
	}{
		{berth.E("fs.Stat", berth.KindInternal, "disk /srv/secret failed"), 500, "INTERNAL_ERROR", true},
		{berth.E("s3.Stat", berth.KindUnavailable, "object store unreachable"), 503, "UNAVAILABLE", false},
		{errors.New("plain error at /srv/secret"), 500, "INTERNAL_ERROR", true},
	} {
		var logs bytes.Buffer
		h, err := NewHandler(s, failingBlobs{tc.err}, nil, &recorder{}, testDomain, "eastus", slog.New(slog.NewJSONHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/v2/team/app/blobs/"+testDigest.String()+"?bt="+tok, nil)
		req.Host = dataHost("contoso", "eastus")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		r := reply{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
		if r.status != tc.status || r.code() != tc.code {
			t.Errorf("%v: %d %s, want %d %s", tc.err, r.status, r.code(), tc.status, tc.code)
		}
		if tc.secret && strings.Contains(r.message(), "secret") {
			t.Errorf("internal cause reached the client: %q", r.message())
		}
		if !strings.Contains(logs.String(), "data endpoint request failed") {
			t.Errorf("server error not logged: %s", logs.String())
		}
	}
}

func TestNewHandlerValidates(t *testing.T) {
	s, _, _ := newSigner(t, SignerConfig{})
	blobs := failingBlobs{}
	for _, tc := range []struct {
		name           string
		v              Verifier
		b              BlobReader
		a              Auditor
		domain, region string
	}{
		{"no verifier", nil, blobs, &recorder{}, "example.com", "eastus"},
		{"no blobs", s, nil, &recorder{}, "example.com", "eastus"},
		{"no auditor", s, blobs, nil, "example.com", "eastus"},
		{"IPv4 domain", s, blobs, &recorder{}, "10.0.0.1", "eastus"},
		{"IPv6 domain", s, blobs, &recorder{}, "[::1]", "eastus"},
		{"numeric top label", s, blobs, &recorder{}, "example.123", "eastus"},
		{"empty domain", s, blobs, &recorder{}, "", "eastus"},
		{"domain with port", s, blobs, &recorder{}, "example.com:443", "eastus"},
		{"bad region", s, blobs, &recorder{}, "example.com", "East_US"},
	} {
		if _, err := NewHandler(tc.v, tc.b, nil, tc.a, tc.domain, tc.region, nil); berth.KindOf(err) != berth.KindInvalid {
			t.Errorf("%s: NewHandler = %v, want KindInvalid", tc.name, err)
		}
	}
	if _, err := NewHandler(s, blobs, nil, &recorder{}, "Example.COM.", "eastus", nil); err != nil {
		t.Errorf("NewHandler with a domain in upper case and a trailing dot: %v", err)
	}
}

func TestLogAuditor(t *testing.T) {
	var buf bytes.Buffer
	a := NewLogAuditor(slog.New(slog.NewJSONHandler(&buf, nil)))
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	a.BlobServed(context.Background(), Record{Registry: "contoso", Region: "eastus", Repository: "team/app", Digest: testDigest,
		Identity: "token:ci@contoso", ClientAddr: "192.0.2.7", Method: "GET", Bytes: 42, Status: 206, Time: at})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"msg": "blob served", "registry": "contoso", "region": "eastus", "repository": "team/app", "digest": testDigest.String(),
		"identity": "token:ci@contoso", "client": "192.0.2.7", "method": "GET", "bytes": 42.0, "status": 206.0,
		"time": at.Format(time.RFC3339),
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
}

func TestBlobURLOverTLS(t *testing.T) {
	s, _, _ := newSigner(t, SignerConfig{})
	loc, err := NewLocator(s, LocatorConfig{Domain: "Example.com", Region: "eastus", TTL: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	reg := berth.Registry{Name: "contoso", Settings: berth.Settings{DataEndpointEnabled: true}}
	p := berth.Principal{Kind: berth.PrincipalAdmin, Name: "contoso", Registry: "contoso"}
	for _, tc := range []struct {
		host string
		tls  bool
		want string // scheme and host of the URL
	}{
		{"contoso.example.com", true, "https://contoso.eastus.data.example.com/"},
		{"contoso.example.com:443", true, "https://contoso.eastus.data.example.com/"},
		{"contoso.example.com:8443", true, "https://contoso.eastus.data.example.com:8443/"},
		{"contoso.example.com:80", false, "http://contoso.eastus.data.example.com/"},
		{"localhost:5000", false, "http://contoso.eastus.data.example.com:5000/"},
		{"[::1]:5000", false, "http://contoso.eastus.data.example.com:5000/"},
		{"contoso.example.com:@evil.com", false, "http://contoso.eastus.data.example.com/"},
		{"contoso.example.com:0", false, "http://contoso.eastus.data.example.com/"},
		{"contoso.example.com:99999", false, "http://contoso.eastus.data.example.com/"},
	} {
		r := httptest.NewRequest("GET", "/v2/team/app/blobs/"+testDigest.String(), nil)
		r.Host = tc.host
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		u, err := loc.BlobURL(r, reg, "team/app", testDigest, p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u, tc.want+"v2/team/app/blobs/"+testDigest.String()+"?bt=") {
			t.Errorf("Host %s (TLS %v): BlobURL = %s, want %s...", tc.host, tc.tls, u, tc.want)
		}
		c, err := s.Verify(context.Background(), u[strings.Index(u, "?bt=")+4:])
		if err != nil {
			t.Fatal(err)
		}
		if c.Expires.Sub(c.IssuedAt) != 2*time.Minute || c.Identity != "admin:contoso@contoso" || c.ClientAddr.IsValid() {
			t.Errorf("claims of the URL: %+v", c)
		}
	}

	// A registry's own URL lifetime overrides the locator's.
	reg.DataEndpointURLTTL = 45 * time.Second
	r := httptest.NewRequest("GET", "/v2/team/app/blobs/"+testDigest.String(), nil)
	u, err := loc.BlobURL(r, reg, "team/app", testDigest, p)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Verify(context.Background(), u[strings.Index(u, "?bt=")+4:]); err != nil || c.Expires.Sub(c.IssuedAt) != 45*time.Second {
		t.Errorf("registry TTL: claims %+v, %v", c, err)
	}

	reg.DataEndpointEnabled = false
	if u, err := loc.BlobURL(r, reg, "team/app", testDigest, p); u != "" || err != nil {
		t.Errorf("BlobURL without data endpoints = %q, %v; want \"\"", u, err)
	}
}

func TestBlobURLRefusals(t *testing.T) {
	s, _, _ := newSigner(t, SignerConfig{})
	reg := berth.Registry{Name: "contoso", Settings: berth.Settings{DataEndpointEnabled: true}}
	p := berth.Principal{Kind: berth.PrincipalAnonymous, Registry: "contoso"}
	loc, err := NewLocator(s, LocatorConfig{Domain: "example.com", Region: "eastus", BindClientAddr: true})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "@unix"
	if _, err := loc.BlobURL(r, reg, "team/app", testDigest, p); berth.KindOf(err) != berth.KindInvalid {
		t.Errorf("binding to remote address %q: %v, want KindInvalid", r.RemoteAddr, err)
	}
	r.RemoteAddr = "[fe80::1%eth0]:1234"
	u, err := loc.BlobURL(r, reg, "team/app", testDigest, p)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Verify(context.Background(), u[strings.Index(u, "?bt=")+4:]); err != nil || c.ClientAddr.String() != "fe80::1" {
		t.Errorf("bound address = %v, %v; want fe80::1 without zone", c.ClientAddr, err)
	}
	if _, err := loc.BlobURL(r, reg, "Team", testDigest, p); berth.KindOf(err) != berth.KindInvalid {
		t.Errorf("invalid repository: %v", err)
	}
	for _, cfg := range []LocatorConfig{
		{Domain: "192.0.2.1", Region: "eastus"},
		{Domain: "[2001:db8::1]", Region: "eastus"},
		{Domain: "example.com", Region: ""},
		{Domain: "example.com", Region: "eastus", TTL: -time.Second},
	} {
		if _, err := NewLocator(s, cfg); berth.KindOf(err) != berth.KindInvalid {
			t.Errorf("NewLocator(%+v) = %v, want KindInvalid", cfg, err)
		}
	}
	if _, err := NewLocator(nil, LocatorConfig{Domain: "example.com", Region: "eastus"}); berth.KindOf(err) != berth.KindInvalid {
		t.Errorf("NewLocator without a minter: %v", err)
	}
}

// readFromWriter is a ResponseWriter that, like net/http's, implements
// io.ReaderFrom, and remembers what the handler handed it.
type readFromWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
	srcs   []io.Reader
}

func (w *readFromWriter) Header() http.Header         { return w.header }
func (w *readFromWriter) WriteHeader(status int)      { w.status = status }
func (w *readFromWriter) Write(p []byte) (int, error) { return w.body.Write(p) }
func (w *readFromWriter) ReadFrom(r io.Reader) (int64, error) {
	w.srcs = append(w.srcs, r)
	return w.body.ReadFrom(r)
}

// TestBodyCanBeSentWithSendfile checks that the handler gives the response
// writer the file itself (whole blob) or a LimitedReader over it (a range):
// the two sources net.TCPConn.ReadFrom sends with sendfile.
func TestBodyCanBeSentWithSendfile(t *testing.T) {
	e := newEnv(t)
	h, err := NewHandler(e.signer, e.stores["eastus"], nil, &recorder{}, testDomain, "eastus", nil)
	if err != nil {
		t.Fatal(err)
	}
	target := e.blobPath("team/app", "d1", e.mint(Claims{}))
	for _, rng := range []string{"", "bytes=100-199"} {
		req := httptest.NewRequest("GET", target, nil)
		req.Host = dataHost("contoso", "eastus")
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		w := &readFromWriter{header: http.Header{}}
		h.ServeHTTP(w, req)
		if w.status != 200 && w.status != 206 || len(w.srcs) != 1 {
			t.Fatalf("Range %q: status %d, ReadFrom called with %d readers", rng, w.status, len(w.srcs))
		}
		src := w.srcs[0]
		if lr, ok := src.(*io.LimitedReader); ok {
			src = lr.R
		}
		if _, ok := src.(syscall.Conn); !ok {
			t.Errorf("Range %q: the writer got a %T, which sendfile cannot send", rng, w.srcs[0])
		}
	}
}
