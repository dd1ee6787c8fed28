package fs_test

import (
	"context"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
	"berth/internal/blobstore/blobstoretest"
	"berth/internal/blobstore/fs"
)

func newStore(t *testing.T, root string) *fs.Store {
	t.Helper()
	s, err := fs.New(root)
	if err != nil {
		t.Fatalf("New(%q): %v", root, err)
	}
	return s
}

func TestSuite(t *testing.T) {
	blobstoretest.Run(t, func(t *testing.T) berth.BlobStore {
		return newStore(t, t.TempDir())
	})
}

func TestNewCreatesRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b")
	s := newStore(t, root)
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		t.Fatalf("root %s was not created: %v", root, err)
	}
	if s.Root() != root {
		t.Errorf("Root() = %q, want %q", s.Root(), root)
	}

	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.New(file); err == nil {
		t.Errorf("New(%q) of a regular file: got no error", file)
	}
}

func TestLayout(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	s := newStore(t, root)
	data := []byte("layout")

	if _, err := s.WriteUpload(ctx, "reg1", "up-1", 0, strings.NewReader("lay")); err != nil {
		t.Fatal(err)
	}
	wantFile(t, filepath.Join(root, "reg1", "uploads", "up-1"), "lay")

	for _, d := range []digest.Digest{digest.SHA256.FromBytes(data), digest.SHA512.FromBytes(data)} {
		id := "up-" + d.Algorithm().String()
		if _, err := s.WriteUpload(ctx, "reg1", id, 0, strings.NewReader(string(data))); err != nil {
			t.Fatal(err)
		}
		if err := s.CommitUpload(ctx, "reg1", id, int64(len(data)), d); err != nil {
			t.Fatal(err)
		}
		hex := d.Encoded()
		wantFile(t, filepath.Join(root, "reg1", "blobs", d.Algorithm().String(), hex[:2], hex), string(data))
		if _, err := os.Stat(filepath.Join(root, "reg1", "uploads", id)); !os.IsNotExist(err) {
			t.Errorf("upload %s still on disk after commit: %v", id, err)
		}
	}

	// Every file lives under a registry's blobs or uploads directory.
	err := filepath.WalkDir(root, func(path string, e iofs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		parts := strings.Split(rel, string(filepath.Separator))
		switch {
		case len(parts) == 3 && parts[1] == "uploads":
		case len(parts) == 5 && parts[1] == "blobs":
		default:
			t.Errorf("unexpected file %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func wantFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if string(got) != want {
		t.Fatalf("%s holds %q, want %q", path, got, want)
	}
}

func TestGetReaderTypes(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, t.TempDir())
	data := "zero-copy please"
	d := digest.FromString(data)
	if _, err := s.WriteUpload(ctx, "reg1", "u1", 0, strings.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitUpload(ctx, "reg1", "u1", int64(len(data)), d); err != nil {
		t.Fatal(err)
	}

	rc, err := s.Get(ctx, "reg1", d, 5, -1)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := rc.(*os.File)
	if !ok {
		t.Fatalf("Get with length < 0 returned %T, want *os.File", rc)
	}
	if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != 5 {
		t.Errorf("file position = %d (%v), want 5", pos, err)
	}
	rc.Close()

	rc, err = s.Get(ctx, "reg1", d, 5, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	wt, ok := rc.(io.WriterTo)
	if !ok {
		t.Fatalf("Get with length >= 0 returned %T, which is not an io.WriterTo", rc)
	}
	rf := &readerFromSpy{}
	if _, err := wt.WriteTo(rf); err != nil {
		t.Fatal(err)
	}
	lr, ok := rf.src.(*io.LimitedReader)
	if !ok {
		t.Fatalf("WriteTo handed ReadFrom a %T, want *io.LimitedReader", rf.src)
	}
	if _, ok := lr.R.(*os.File); !ok {
		t.Errorf("WriteTo's *io.LimitedReader reads from %T, want *os.File", lr.R)
	}
	if rf.got != "copy" {
		t.Errorf("WriteTo wrote %q, want %q", rf.got, "copy")
	}
}

// readerFromSpy records what io.Copy hands to ReadFrom, as a TCP connection
// would see it.
type readerFromSpy struct {
	src io.Reader
	got string
}

func (w *readerFromSpy) Write(p []byte) (int, error) {
	w.got += string(p)
	return len(p), nil
}

func (w *readerFromSpy) ReadFrom(r io.Reader) (int64, error) {
	w.src = r
	b, err := io.ReadAll(r)
	w.got += string(b)
	return int64(len(b)), err
}

func TestWriteFromFile(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, t.TempDir())
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, []byte("from a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := s.WriteUpload(ctx, "reg1", "u1", 0, strings.NewReader("prefix ")); err != nil {
		t.Fatal(err)
	}
	n, err := s.WriteUpload(ctx, "reg1", "u1", 7, f)
	if err != nil || n != 11 {
		t.Fatalf("WriteUpload from a file = %d, %v; want 11, nil", n, err)
	}
	rc, err := s.ReadUpload(ctx, "reg1", "u1", 18)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if string(got) != "prefix from a file" {
		t.Errorf("upload holds %q", got)
	}
}

func TestCanceledContext(t *testing.T) {
	s := newStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.WriteUpload(ctx, "reg1", "u1", 0, strings.NewReader("x"))
	if err == nil {
		t.Fatal("WriteUpload with a canceled context: got no error")
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "reg1")); !os.IsNotExist(err) {
		t.Errorf("registry directory exists after a canceled write: %v", err)
	}
}

// TestInvalidNamesCreateNothing checks on disk that refused names leave no
// file or directory, inside the root or next to it.
func TestInvalidNamesCreateNothing(t *testing.T) {
	ctx := t.Context()
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	s := newStore(t, root)
	good := digest.FromString("x")
	content := func() io.Reader { return strings.NewReader("x") }
	accept := func(int64) error { return nil }

	for _, reg := range []string{"", "..", "../x", "a/b", "Upper", "a-b"} {
		s.WriteUpload(ctx, reg, "u1", 0, content())
		s.CommitUpload(ctx, reg, "u1", 1, good)
		s.AbortUpload(ctx, reg, "u1")
		s.Delete(ctx, reg, good)
		s.PutBlob(ctx, reg, good, content(), accept)
	}
	for _, id := range []string{"", ".", "..", "../x", "../../x", "a/b", "a.b"} {
		s.WriteUpload(ctx, "reg1", id, 0, content())
		s.CommitUpload(ctx, "reg1", id, 1, good)
		s.AbortUpload(ctx, "reg1", id)
	}
	for _, d := range []digest.Digest{"sha256:../../x", "../x", "sha256:abc"} {
		s.CommitUpload(ctx, "reg1", "u1", 1, d)
		s.Delete(ctx, "reg1", d)
		s.PutBlob(ctx, "reg1", d, content(), accept)
	}

	for _, dir := range []string{parent, root} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		want := ""
		if dir == parent {
			want = "root"
		}
		if strings.Join(names, ",") != want {
			t.Errorf("%s holds %v after refused calls, want [%s]", dir, names, want)
		}
	}
}
