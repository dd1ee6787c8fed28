package dataendpoint

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
	"berth/internal/blobstore/fs"
)

// memKeys is an in-memory KeyStore that counts reads and can fail on demand.
type memKeys struct {
	mu    sync.Mutex
	keys  map[string]berth.SigningKey
	lists int
	fail  error
}

func newMemKeys() *memKeys { return &memKeys{keys: map[string]berth.SigningKey{}} }

func (m *memKeys) SigningKeys(ctx context.Context) ([]berth.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lists++
	if m.fail != nil {
		return nil, m.fail
	}
	out := make([]berth.SigningKey, 0, len(m.keys))
	for _, k := range m.keys {
		k.Private = slices.Clone(k.Private)
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b berth.SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

func (m *memKeys) PutSigningKey(ctx context.Context, k berth.SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	k.Private = slices.Clone(k.Private)
	m.keys[k.ID] = k
	return nil
}

func (m *memKeys) DeleteSigningKey(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	delete(m.keys, id)
	return nil
}

func (m *memKeys) get(id string) (berth.SigningKey, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	return k, ok
}

func (m *memKeys) reads() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lists
}

func (m *memKeys) setFail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recorder is an Auditor that keeps what it receives.
type recorder struct {
	mu   sync.Mutex
	recs []Record
}

func (a *recorder) BlobServed(ctx context.Context, rec Record) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recs = append(a.recs, rec)
}

// wait returns the records once there are at least n, or what there is
// after a few seconds: the handler audits after the response, so a client
// may see the response first.
func (a *recorder) wait(n int) []Record {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if recs := a.all(); len(recs) >= n {
			return recs
		}
	}
	return a.all()
}

func (a *recorder) all() []Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.recs)
}

// denyRules refuses the registries it lists and does not know those in gone.
type denyRules struct {
	deny map[string]string // registry -> rule name
	gone map[string]bool
}

func (d denyRules) Check(r *http.Request, registry string) error {
	if d.gone[registry] {
		return berth.E("netrule.Check", berth.KindNotFound, "registry %q does not exist", registry)
	}
	if rule, ok := d.deny[registry]; ok {
		return berth.E("netrule.Check", berth.KindDenied, "client %s is refused by network rule %q of registry %q", r.RemoteAddr, rule, registry)
	}
	return nil
}

const testDomain = "example.com"

// env is two regions (eastus, westus) of one service, each with its own
// file-system blob store, serving registries contoso and fabrikam.
type env struct {
	t      testing.TB
	keys   *memKeys
	clock  *clock
	signer *Signer
	stores map[string]*fs.Store        // by region
	srvs   map[string]*httptest.Server // by region
	audits map[string]*recorder        // by region
	blobs  map[string][]byte           // content by name
	dgst   map[string]digest.Digest    // digest by name
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{
		t:      t,
		keys:   newMemKeys(),
		clock:  &clock{t: time.Now().Truncate(time.Second)},
		stores: map[string]*fs.Store{},
		srvs:   map[string]*httptest.Server{},
		audits: map[string]*recorder{},
		blobs:  map[string][]byte{},
		dgst:   map[string]digest.Digest{},
	}
	var err error
	if e.signer, err = NewSigner(e.keys, SignerConfig{}, e.clock.now); err != nil {
		t.Fatal(err)
	}
	for name, size := range map[string]int{"d1": 4096 + 17, "d2": 100, "d3": 7, "gone": 10, "empty": 0} {
		b := bytes.Repeat([]byte(name+"-"), size)[:size]
		e.blobs[name], e.dgst[name] = b, digest.FromBytes(b)
	}
	rules := denyRules{deny: map[string]string{"locked": "deny-all"}, gone: map[string]bool{"deleted": true}}
	for _, region := range []string{"eastus", "westus"} {
		st, err := fs.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		e.stores[region] = st
		for _, reg := range []string{"contoso", "fabrikam", "locked", "deleted"} {
			for _, name := range []string{"d1", "d2", "d3", "gone", "empty"} {
				e.put(region, reg, name)
			}
		}
		e.audits[region] = &recorder{}
		h, err := NewHandler(e.signer, st, rules, e.audits[region], testDomain, region, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		e.srvs[region] = httptest.NewServer(h)
		t.Cleanup(e.srvs[region].Close)
	}
	return e
}

// put stores blob name in registry reg of region.
func (e *env) put(region, reg, name string) {
	e.t.Helper()
	ctx := context.Background()
	st := e.stores[region]
	id := "up-" + name
	if _, err := st.WriteUpload(ctx, reg, id, 0, bytes.NewReader(e.blobs[name])); err != nil {
		e.t.Fatal(err)
	}
	if err := st.CommitUpload(ctx, reg, id, int64(len(e.blobs[name])), e.dgst[name]); err != nil {
		e.t.Fatal(err)
	}
}

// mint returns a token for c; empty fields take defaults (contoso, eastus,
// team/app, d1, token:ci@contoso).
func (e *env) mint(c Claims) string {
	e.t.Helper()
	if c.Registry == "" {
		c.Registry = "contoso"
	}
	if c.Region == "" {
		c.Region = "eastus"
	}
	if c.Repository == "" {
		c.Repository = "team/app"
	}
	if c.Digest == "" {
		c.Digest = e.dgst["d1"]
	}
	if c.Identity == "" {
		c.Identity = "token:ci@" + c.Registry
	}
	tok, err := e.signer.Mint(context.Background(), c)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// reply is a response as the tests look at it.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// code returns the first OCI error code of the body, "" if none.
func (r reply) code() string {
	var b errorBody
	if json.Unmarshal(r.body, &b) != nil || len(b.Errors) == 0 {
		return ""
	}
	return string(b.Errors[0].Code)
}

func (r reply) message() string {
	var b errorBody
	if json.Unmarshal(r.body, &b) != nil || len(b.Errors) == 0 {
		return ""
	}
	return b.Errors[0].Message
}

// raw sends one request to the server of region, written byte for byte:
// request line "<method> <target> HTTP/1.1", the Host header (none, and
// HTTP/1.0, when host is empty) and hdr as "Name: value" lines.
func (e *env) raw(region, method, target, host string, hdr ...string) reply {
	e.t.Helper()
	addr := strings.TrimPrefix(e.srvs[region].URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	var req strings.Builder
	if host == "" {
		fmt.Fprintf(&req, "%s %s HTTP/1.0\r\n", method, target)
	} else {
		fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host)
	}
	for _, h := range hdr {
		req.WriteString(h + "\r\n")
	}
	req.WriteString("Connection: close\r\n\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		e.t.Fatalf("%s %s (Host %s): %v", method, target, host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: body}
}

// dataHost returns the data endpoint host of registry in region.
func dataHost(registry, region string) string { return Host(registry, region, testDomain) }

// blobPath returns the path of blob name in repo with token.
func (e *env) blobPath(repo, name, token string) string {
	return "/v2/" + repo + "/blobs/" + e.dgst[name].String() + "?bt=" + token
}
