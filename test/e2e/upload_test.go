package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// TestUploadSurvivesRestart starts a chunked upload with raw HTTP, restarts
// the server gracefully in the middle, and finishes the upload on the same
// session: upload state lives in the data directory, not in memory.
func TestUploadSurvivesRestart(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const repo = "upload/resume"
	blob := make([]byte, 3<<20+12345)
	if _, err := rand.Read(blob); err != nil {
		t.Fatal(err)
	}
	digest := sha256Digest(blob)
	half := len(blob) / 2

	resp, body := do(t, http.MethodPost, s.url("/v2/"+repo+"/blobs/uploads/"), nil, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST blobs/uploads/: %s %s, want 202", resp.Status, body)
	}
	loc := location(t, s, resp)

	resp, body = patchChunk(t, loc, blob[:half], 0)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("PATCH first chunk: %s %s, want 202", resp.Status, body)
	}
	if r := resp.Header.Get("Range"); r != fmt.Sprintf("0-%d", half-1) {
		t.Errorf("PATCH first chunk: Range = %q, want 0-%d", r, half-1)
	}
	loc = location(t, s, resp)

	s.restart()

	resp, body = do(t, http.MethodGet, loc, nil, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("GET upload status after restart: %s %s, want 204", resp.Status, body)
	}
	if r := resp.Header.Get("Range"); r != fmt.Sprintf("0-%d", half-1) {
		t.Errorf("GET upload status after restart: Range = %q, want 0-%d", r, half-1)
	}
	loc = location(t, s, resp)

	// A chunk that does not continue where the session stands is refused.
	resp, body = patchChunk(t, loc, blob[half:], 0)
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("PATCH out of order (Content-Range from 0 again): %s %s, want 416", resp.Status, body)
	}

	resp, body = patchChunk(t, loc, blob[half:], half)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("PATCH second chunk after restart: %s %s, want 202", resp.Status, body)
	}
	if r := resp.Header.Get("Range"); r != fmt.Sprintf("0-%d", len(blob)-1) {
		t.Errorf("PATCH second chunk: Range = %q, want 0-%d", r, len(blob)-1)
	}
	loc = location(t, s, resp)

	put, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	q := put.Query()
	q.Set("digest", digest)
	put.RawQuery = q.Encode()
	resp, body = do(t, http.MethodPut, put.String(), nil, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT ?digest= to close the upload: %s %s, want 201", resp.Status, body)
	}
	if d := resp.Header.Get("Docker-Content-Digest"); d != digest {
		t.Errorf("PUT: Docker-Content-Digest = %q, want %s", d, digest)
	}

	resp, got := do(t, http.MethodGet, s.url("/v2/"+repo+"/blobs/"+digest), nil, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, blob) {
		t.Fatalf("GET blob: %s, %d bytes hashing to %s; want 200 with the %d bytes uploaded", resp.Status, len(got), sha256Digest(got), len(blob))
	}
	resp, _ = do(t, http.MethodHead, s.url("/v2/"+repo+"/blobs/"+digest), nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Length") != strconv.Itoa(len(blob)) {
		t.Errorf("HEAD blob: %s, Content-Length %q; want 200 and %d", resp.Status, resp.Header.Get("Content-Length"), len(blob))
	}

	// The finished session is gone.
	resp, body = do(t, http.MethodGet, loc, nil, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET status of a finished upload: %s %s, want 404 BLOB_UPLOAD_UNKNOWN", resp.Status, body)
	}
}

// patchChunk sends chunk as the bytes of the upload at loc starting at offset.
func patchChunk(t *testing.T, loc string, chunk []byte, offset int) (*http.Response, []byte) {
	t.Helper()
	return do(t, http.MethodPatch, loc, bytes.NewReader(chunk), http.Header{
		"Content-Type":  {"application/octet-stream"},
		"Content-Range": {fmt.Sprintf("%d-%d", offset, offset+len(chunk)-1)},
	})
}

// location returns the absolute URL of a response's Location header, which
// may be relative to the server.
func location(t *testing.T, s *server, resp *http.Response) string {
	t.Helper()
	l := resp.Header.Get("Location")
	if l == "" {
		t.Fatalf("%s %s: %s without a Location header", resp.Request.Method, resp.Request.URL, resp.Status)
	}
	base, err := url.Parse(s.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := base.Parse(l)
	if err != nil {
		t.Fatalf("Location %q: %v", l, err)
	}
	return u.String()
}
