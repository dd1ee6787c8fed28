package azblob_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
	"berth/internal/blobstore/azblob"
)

// fetch sends a request without any credential but the URL's own and
// returns the status and body.
func fetch(t *testing.T, method, u string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPut {
		req.Header.Set("x-ms-blob-type", "BlockBlob")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s %s: %v", method, u, err)
	}
	return resp.StatusCode, b
}

func signedURL(t *testing.T, s *azblob.Store, registry string, d digest.Digest, ttl time.Duration) string {
	t.Helper()
	u, err := s.SignedURL(t.Context(), registry, d, ttl)
	if err != nil {
		t.Fatalf("SignedURL(%s, %s): %v", registry, d, err)
	}
	return u
}

func TestSignedURLReadsExactlyTheBlob(t *testing.T) {
	s := newStore(t)
	data := []byte("the layer a client downloads from storage")
	d := put(t, s, "reg1", data)
	u := signedURL(t, s, "reg1", d, time.Minute)

	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := parsed.Query()
	if q.Get("sp") != "r" || q.Get("sr") != "b" {
		t.Errorf("SAS grants sp=%q on sr=%q, want read (r) on one blob (b)", q.Get("sp"), q.Get("sr"))
	}
	if q.Get("spr") != "https,http" {
		t.Errorf("SAS protocol = %q, want https,http for an http service URL", q.Get("spr"))
	}
	if !strings.HasSuffix(parsed.Path, "/reg1/blobs/sha256/"+d.Encoded()) {
		t.Errorf("SAS URL path %q does not name the blob", parsed.Path)
	}

	status, body := fetch(t, http.MethodGet, u, nil)
	if status != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET with the SAS URL = %d %q, want 200 %q", status, body, data)
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	req.Header.Set("Range", "bytes=4-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(part) != string(data[4:9]) {
		t.Errorf("ranged GET with the SAS URL = %d %q, want 206 %q", resp.StatusCode, part, data[4:9])
	}
}

func TestSignedURLRefusesEverythingElse(t *testing.T) {
	s := newStore(t)
	data := []byte("read-only content")
	d := put(t, s, "reg1", data)
	other := put(t, s, "reg1", []byte("another blob of the same registry"))
	u := signedURL(t, s, "reg1", d, time.Minute)

	for _, method := range []string{http.MethodPut, http.MethodDelete} {
		if status, body := fetch(t, method, u, []byte("overwritten")); status != http.StatusForbidden {
			t.Errorf("%s with the SAS URL = %d %s, want 403", method, status, body)
		}
	}
	if status, body := fetch(t, http.MethodGet, u, nil); status != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("GET after the refused writes = %d %q, want 200 %q", status, body, data)
	}

	rewritten := map[string]string{
		"another blob":           strings.Replace(u, d.Encoded(), other.Encoded(), 1),
		"an upload":              strings.Replace(u, "blobs/sha256/"+d.Encoded(), "uploads/u1", 1),
		"write permission added": strings.Replace(u, "sp=r", "sp=rw", 1),
		"expiry moved":           strings.Replace(u, "se=", "se=2099", 1),
	}
	for name, ru := range rewritten {
		if ru == u {
			t.Fatalf("%s: the URL did not change", name)
		}
		if status, _ := fetch(t, http.MethodGet, ru, nil); status != http.StatusForbidden {
			t.Errorf("GET of %s with the SAS = %d, want 403", name, status)
		}
	}
}

func TestSignedURLExpires(t *testing.T) {
	s := newStore(t)
	d := put(t, s, "reg1", []byte("short-lived access"))
	u := signedURL(t, s, "reg1", d, time.Second)
	time.Sleep(2500 * time.Millisecond)
	if status, body := fetch(t, http.MethodGet, u, nil); status != http.StatusForbidden {
		t.Errorf("GET with an expired SAS URL = %d %s, want 403", status, body)
	}
}

func TestSignedURLIsBoundToItsAccount(t *testing.T) {
	name := freshContainer()
	s := newStoreIn(t, account, name)
	theirs := newStoreIn(t, attacker, name)
	data := []byte("identical names in two accounts")
	d := put(t, s, "reg1", data)
	put(t, theirs, "reg1", data)

	u := signedURL(t, s, "reg1", d, time.Minute)
	moved := strings.Replace(u, "/"+account+"/", "/"+attacker+"/", 1)
	if moved == u {
		t.Fatalf("SAS URL %s does not name account %s", u, account)
	}
	if status, body := fetch(t, http.MethodGet, moved, nil); status != http.StatusForbidden {
		t.Errorf("GET in account %s with a SAS of account %s = %d %s, want 403", attacker, account, status, body)
	}
	if status, body := fetch(t, http.MethodPut, moved, []byte("x")); status != http.StatusForbidden {
		t.Errorf("PUT in account %s with a SAS of account %s = %d %s, want 403", attacker, account, status, body)
	}
}

func TestSignedURLKeepsRegistriesApart(t *testing.T) {
	s := newStore(t)
	data := []byte("belongs to registry a")
	d := put(t, s, "rega", data)

	// A SAS for the same digest in registry b names b's blob, which b lacks.
	if status, _ := fetch(t, http.MethodGet, signedURL(t, s, "regb", d, time.Minute), nil); status != http.StatusNotFound {
		t.Errorf("GET of registry b's SAS URL = %d, want 404", status)
	}
	// A's SAS does not reach b's name, nor b's SAS a's.
	moved := strings.Replace(signedURL(t, s, "rega", d, time.Minute), "/rega/", "/regb/", 1)
	if status, _ := fetch(t, http.MethodGet, moved, nil); status != http.StatusForbidden {
		t.Errorf("GET of registry b's name with registry a's SAS = %d, want 403", status)
	}
	moved = strings.Replace(signedURL(t, s, "regb", d, time.Minute), "/regb/", "/rega/", 1)
	if status, _ := fetch(t, http.MethodGet, moved, nil); status != http.StatusForbidden {
		t.Errorf("GET of registry a's name with registry b's SAS = %d, want 403", status)
	}
	if _, err := s.Stat(t.Context(), "regb", d); !berth.IsNotFound(err) {
		t.Errorf("Stat in registry b: got %v, want kind %q", err, berth.KindNotFound)
	}
}

func TestSignedURLValidates(t *testing.T) {
	s := newStore(t)
	for _, tc := range []struct {
		registry string
		d        digest.Digest
	}{
		{"../x", digest.FromString("x")},
		{"Upper", digest.FromString("x")},
		{"reg1", "sha256:../../x"},
		{"reg1", "md5:d41d8cd98f00b204e9800998ecf8427e"},
	} {
		if _, err := s.SignedURL(t.Context(), tc.registry, tc.d, time.Minute); berth.KindOf(err) != berth.KindInvalid || err == nil {
			t.Errorf("SignedURL(%q, %q): got %v, want kind %q", tc.registry, tc.d, err, berth.KindInvalid)
		}
	}
}

func TestLocator(t *testing.T) {
	s := newStore(t)
	data := []byte("pulled through the locator")
	d := put(t, s, "reg1", data)
	loc := azblob.NewLocator(s)
	r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/v2/app/blobs/"+d.String(), nil)
	p := berth.Principal{Kind: berth.PrincipalAnonymous, Registry: "reg1"}

	reg := berth.Registry{Name: "reg1"}
	reg.DataEndpointEnabled = true
	if u, err := loc.BlobURL(r, reg, "app", d, p); err != nil || u != "" {
		t.Errorf("BlobURL with data endpoints = %q, %v; want \"\", nil", u, err)
	}

	reg.DataEndpointEnabled = false
	u, err := loc.BlobURL(r, reg, "app", d, p)
	if err != nil {
		t.Fatalf("BlobURL: %v", err)
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	se, err := time.Parse(time.RFC3339, parsed.Query().Get("se"))
	if err != nil {
		t.Fatalf("SAS expiry %q: %v", parsed.Query().Get("se"), err)
	}
	if left := time.Until(se); left < azblob.DefaultSASTTL-time.Minute || left > azblob.DefaultSASTTL {
		t.Errorf("SAS of the locator expires in %s, want about %s", left, azblob.DefaultSASTTL)
	}
	if status, body := fetch(t, http.MethodGet, u, nil); status != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("GET of the locator's URL = %d %q, want 200 %q", status, body, data)
	}
}
