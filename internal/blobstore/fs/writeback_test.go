package fs

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestWritebackWriter writes past several writeback steps from an offset in
// odd-sized pieces and checks the file holds exactly what was written.
func TestWritebackWriter(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "w"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := []byte("head")
	if _, err := f.Write(head); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 3*writebackStep+12345)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	w := newWritebackWriter(f, int64(len(head)))
	for rest := body; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(3<<20))
		if k, err := w.Write(rest[:n]); err != nil || k != n {
			t.Fatalf("Write = %d, %v; want %d", k, err, n)
		}
		rest = rest[n:]
	}
	if w.off != int64(len(head)+len(body)) || w.flushed <= w.off-writebackStep || w.flushed < 2*writebackStep {
		t.Fatalf("offset %d, flushed to %d", w.off, w.flushed)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append(head, body...)) {
		t.Fatal("file content differs from what was written")
	}
}
