package fs

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// TestCopyPooled copies bodies around the size of the small buffer, read
// in pieces of every kind, and checks that copyPooled gives the bytes, the
// count and the error that io.Copy gives for the same reader and writer.
func TestCopyPooled(t *testing.T) {
	boom := errors.New("boom")
	for _, size := range []int{0, 1, 4096, smallCopyBufferSize - 1, smallCopyBufferSize,
		smallCopyBufferSize + 1, 3*copyBufferSize + 7} {
		body := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		readers := map[string]func() io.Reader{
			"whole":    func() io.Reader { return bytes.NewReader(body) },
			"data+EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(body)) },
			"cut short": func() io.Reader {
				return io.MultiReader(bytes.NewReader(body), iotest.ErrReader(io.ErrUnexpectedEOF))
			},
			"failing":    func() io.Reader { return io.MultiReader(bytes.NewReader(body), iotest.ErrReader(boom)) },
			"data+error": func() io.Reader { return &dataErrReader{r: bytes.NewReader(body), err: boom} },
		}
		if size <= 2*smallCopyBufferSize {
			readers["one byte"] = func() io.Reader { return iotest.OneByteReader(bytes.NewReader(body)) }
		}
		for name, r := range readers {
			var want, got bytes.Buffer
			wn, werr := io.Copy(&want, r())
			n, err := copyPooled(&got, r())
			if n != wn || !sameError(err, werr) || !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("%d bytes, %s: copyPooled = %d (%d held), %v; io.Copy = %d (%d held), %v",
					size, name, n, got.Len(), err, wn, want.Len(), werr)
			}
		}
		for _, room := range []int{50, smallCopyBufferSize + 50} {
			wn, werr := io.Copy(&failingWriter{room: room}, bytes.NewReader(body))
			n, err := copyPooled(&failingWriter{room: room}, bytes.NewReader(body))
			if n != wn || !sameError(err, werr) {
				t.Errorf("%d bytes, writer full after %d: copyPooled = %d, %v; io.Copy = %d, %v",
					size, room, n, err, wn, werr)
			}
		}
	}
}

// sameError reports whether a and b are both nil or have the same text.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
}

// dataErrReader returns err with the last bytes of r, in the same Read.
type dataErrReader struct {
	r   *bytes.Reader
	err error
}

func (d *dataErrReader) Read(p []byte) (int, error) {
	n, _ := d.r.Read(p)
	if d.r.Len() == 0 {
		return n, d.err
	}
	return n, nil
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
