package fs

import (
	"context"
	"errors"
	"io"
	iofs "io/fs"
	"os"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// Stat returns the size of blob dgst in the registry. It is KindNotFound when
// the registry holds no such blob and KindInvalid when the registry name or
// digest is malformed.
func (s *Store) Stat(ctx context.Context, registry string, dgst digest.Digest) (int64, error) {
	const op = "fs.Stat"
	if err := checkBlob(op, registry, dgst); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, berth.Wrap(op, berth.KindUnavailable, err)
	}
	fi, err := os.Stat(s.blobPath(registry, dgst))
	if err != nil {
		return 0, blobError(op, registry, dgst, err)
	}
	return fi.Size(), nil
}

// Get opens blob dgst for reading from offset; length < 0 reads to the end.
// With length < 0 the reader is the *os.File itself, positioned at offset;
// otherwise it also implements io.WriterTo, handing the destination an
// *io.LimitedReader over the *os.File, so that net/http can serve either with
// sendfile. The caller checks the range against Stat first and must close the
// reader. It is KindNotFound when the registry holds no such blob and
// KindInvalid when a name, the digest or offset is malformed.
func (s *Store) Get(ctx context.Context, registry string, dgst digest.Digest, offset, length int64) (io.ReadCloser, error) {
	const op = "fs.Get"
	if err := checkBlob(op, registry, dgst); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, berth.E(op, berth.KindInvalid, "cannot read blob %s from negative offset %d", dgst, offset)
	}
	if err := ctx.Err(); err != nil {
		return nil, berth.Wrap(op, berth.KindUnavailable, err)
	}
	f, err := os.Open(s.blobPath(registry, dgst))
	if err != nil {
		return nil, blobError(op, registry, dgst, err)
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, berth.E(op, berth.KindInternal, "seeking blob %s to offset %d: %w", dgst, offset, err)
		}
	}
	if length < 0 {
		return f, nil
	}
	return newSection(f, length), nil
}

// Delete removes blob dgst from the registry. It is KindNotFound when the
// registry holds no such blob.
func (s *Store) Delete(ctx context.Context, registry string, dgst digest.Digest) error {
	const op = "fs.Delete"
	if err := checkBlob(op, registry, dgst); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return berth.Wrap(op, berth.KindUnavailable, err)
	}
	if err := os.Remove(s.blobPath(registry, dgst)); err != nil {
		return blobError(op, registry, dgst, err)
	}
	return nil
}

// blobError turns a file system error about blob dgst into an *berth.Error,
// KindNotFound when the file does not exist.
func blobError(op, registry string, dgst digest.Digest, err error) error {
	if errors.Is(err, iofs.ErrNotExist) {
		return berth.E(op, berth.KindNotFound, "blob %s not found in registry %q", dgst, registry)
	}
	return berth.E(op, berth.KindInternal, "blob %s of registry %q: %w", dgst, registry, err)
}

// section reads at most n bytes of an open file from its current position
// and closes the file when done.
type section struct {
	f  *os.File
	lr io.LimitedReader
}

func newSection(f *os.File, n int64) *section {
	s := &section{f: f}
	s.lr = io.LimitedReader{R: f, N: n}
	return s
}

func (s *section) Read(p []byte) (int, error) { return s.lr.Read(p) }

// WriteTo copies the rest of the section to w. A w that implements
// io.ReaderFrom (a TCP connection, an http.ResponseWriter, an *os.File) sees
// an *io.LimitedReader over an *os.File, which the standard library copies
// with sendfile or copy_file_range.
func (s *section) WriteTo(w io.Writer) (int64, error) { return io.Copy(w, &s.lr) }

func (s *section) Close() error { return s.f.Close() }
