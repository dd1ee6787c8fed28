package fs

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// TestCopyPooled copies bodies around the size of the small buffer, in
// reads of every size, and checks that the bytes, the count and the errors
// of the reader and the writer come through as io.Copy gives them.
func TestCopyPooled(t *testing.T) {
	for _, size := range []int{0, 1, 4096, smallCopyBufferSize - 1, smallCopyBufferSize,
		smallCopyBufferSize + 1, 3*copyBufferSize + 7} {
		body := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		for name, r := range map[string]io.Reader{
			"whole":    bytes.NewReader(body),
			"one byte": iotest.OneByteReader(bytes.NewReader(body)),
			"data+EOF": iotest.DataErrReader(bytes.NewReader(body)),
		} {
			if name == "one byte" && size > 2*smallCopyBufferSize {
				continue
			}
			var got bytes.Buffer
			n, err := copyPooled(&got, r)
			if err != nil || n != int64(size) || !bytes.Equal(got.Bytes(), body) {
				t.Errorf("%d bytes, %s: copied %d (%d held), %v", size, name, n, got.Len(), err)
			}
		}
	}

	boom := errors.New("boom")
	for _, at := range []int{0, 100, smallCopyBufferSize + 100} {
		r := io.MultiReader(bytes.NewReader(make([]byte, at)), iotest.ErrReader(boom))
		n, err := copyPooled(io.Discard, r)
		if !errors.Is(err, boom) || n != int64(at) {
			t.Errorf("reader failing after %d bytes: copied %d, %v; want %d, boom", at, n, err, at)
		}
	}

	for _, size := range []int{100, smallCopyBufferSize + 100} {
		w := &failingWriter{room: 50}
		n, err := copyPooled(w, bytes.NewReader(make([]byte, size)))
		if err == nil || n != 50 {
			t.Errorf("writer full after 50 of %d bytes: copied %d, %v; want 50 and an error", size, n, err)
		}
	}
}

// failingWriter takes room bytes and then fails.
type failingWriter struct{ room int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= w.room {
		w.room -= len(p)
		return len(p), nil
	}
	n := w.room
	w.room = 0
	return n, errors.New("disk full")
}
