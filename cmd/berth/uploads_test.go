package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAbandonedUploadsClosed checks the node's wiring of --upload-max-age:
// a session that took a chunk through the registry API and then nothing
// for longer than the age is closed by the node's sweeper and answers
// BLOB_UPLOAD_UNKNOWN; with the flag at 0 the node has no sweeper.
func TestAbandonedUploadsClosed(t *testing.T) {
	n, meta, c := newTestNodeWith(t, func(c *serveConfig) {
		c.auth = false
		c.uploadMaxAge = 24 * time.Hour
	})
	ctx := context.Background()
	do := func(method, target, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		r.Host = "localhost"
		w := httptest.NewRecorder()
		n.ServeHTTP(w, r)
		return w
	}
	w := do(http.MethodPost, "/v2/app/blobs/uploads/", "")
	loc := w.Header().Get("Location")
	if w.Code != http.StatusAccepted || loc == "" {
		t.Fatalf("POST: %d, Location %q", w.Code, loc)
	}
	if w = do(http.MethodPatch, loc, "first chunk"); w.Code != http.StatusAccepted {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	if w = do(http.MethodGet, loc, ""); w.Code != http.StatusNoContent {
		t.Fatalf("status before the sweep: %d %s", w.Code, w.Body)
	}
	uploadFiles := filepath.Join(c.dataDir, "blobs", "default", "uploads", "*")
	if files, err := filepath.Glob(uploadFiles); err != nil || len(files) != 1 {
		t.Fatalf("upload files before the sweep: %v, %v; want one", files, err)
	}
	if got, err := n.uploads.Sweep(ctx, time.Now().Add(time.Hour)); err != nil || got != 0 {
		t.Fatalf("sweep an hour later = %d, %v; want 0", got, err)
	}
	if got, err := n.uploads.Sweep(ctx, time.Now().Add(25*time.Hour)); err != nil || got != 1 {
		t.Fatalf("sweep a day later = %d, %v; want 1", got, err)
	}
	w = do(http.MethodGet, loc, "")
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "BLOB_UPLOAD_UNKNOWN") {
		t.Fatalf("status after the sweep: %d %s; want 404 BLOB_UPLOAD_UNKNOWN", w.Code, w.Body)
	}
	if files, err := filepath.Glob(uploadFiles); err != nil || len(files) != 0 {
		t.Fatalf("upload files after the sweep: %v, %v; want none", files, err)
	}

	c.uploadMaxAge = 0
	n, err := newNode(ctx, c, meta, operatorVerifier("operator-secret"), false, slog.New(slog.DiscardHandler))
	if err != nil || n.uploads != nil {
		t.Fatalf("node with --upload-max-age 0: sweeper %v, %v; want none", n.uploads, err)
	}
}

// TestUploadMaxAgeChecked checks that serve refuses an --upload-max-age
// that is negative or shorter than a slow chunk may take, before it opens
// anything.
func TestUploadMaxAgeChecked(t *testing.T) {
	for _, age := range []time.Duration{-time.Hour, time.Second, 59 * time.Minute} {
		dir := filepath.Join(t.TempDir(), "data")
		c := serveConfig{logLevel: "info", dataDir: dir, uploadMaxAge: age}
		err := serve(t.Context(), c, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--upload-max-age") {
			t.Fatalf("serve with --upload-max-age %s: %v; want the flag named", age, err)
		}
		if _, statErr := os.Stat(dir); !os.IsNotExist(statErr) {
			t.Fatalf("serve with --upload-max-age %s made the data directory", age)
		}
	}
}
