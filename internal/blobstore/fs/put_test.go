package fs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	iofs "io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// TestPutBlobLeavesNoFiles checks on disk that a PutBlob that fails, or
// finds the blob already there, leaves no file behind: the tree under the
// root holds what it held before, and the registry's temporary directory
// is empty.
func TestPutBlobLeavesNoFiles(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, t.TempDir())
	data := []byte("one request, one blob")
	d := digest.FromBytes(data)
	if _, err := s.PutBlob(ctx, "reg1", d, bytes.NewReader(data), func(int64) error { return nil }); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	other := digest.FromString("never stored")
	errRefused := errors.New("digest mismatch")
	accept := func(int64) error { return nil }

	tests := []struct {
		name  string
		d     digest.Digest
		body  func(cancel context.CancelFunc) io.Reader
		check func(int64) error
		want  error
	}{
		{"check refuses", other, func(context.CancelFunc) io.Reader { return strings.NewReader("other content") },
			func(int64) error { return errRefused }, errRefused},
		{"reader fails", other, func(context.CancelFunc) io.Reader { return io.MultiReader(strings.NewReader("part"), errReader{}) },
			accept, errCut},
		{"canceled while reading", other, func(cancel context.CancelFunc) io.Reader {
			return &cancelingReader{r: strings.NewReader("other content"), cancel: cancel}
		}, accept, context.Canceled},
		{"blob exists", d, func(context.CancelFunc) io.Reader { return bytes.NewReader(data) }, accept, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := files(t, s.Root())
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			_, err := s.PutBlob(ctx, "reg1", tc.d, tc.body(cancel), tc.check)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("PutBlob = %v, want %v", err, tc.want)
			}
			if after := files(t, s.Root()); !slices.Equal(after, before) {
				t.Fatalf("files under the root changed from %q to %q", before, after)
			}
		})
	}
	wantFile(t, filepath.Join(s.Root(), "reg1", "blobs", "sha256", d.Encoded()[:2], d.Encoded()), string(data))
	if _, err := s.Stat(ctx, "reg1", other); berth.KindOf(err) != berth.KindNotFound {
		t.Fatalf("Stat of a blob no PutBlob completed = %v, want KindNotFound", err)
	}
}

var errCut = errors.New("connection cut")

// errReader fails every read with errCut.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errCut }

// cancelingReader reads from r and calls cancel after every read, so that
// the context of the call reading it ends while the body is read.
type cancelingReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	defer c.cancel()
	return c.r.Read(p)
}

// files returns the paths of the regular files under root, relative to it.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, e iofs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
