package fs

import (
	"context"
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"sync"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// The buffers that writeAt copies through when the kernel cannot copy for
// it: a small one for the first bytes of every body, and a large one only
// for a body that fills the small one. The many small blobs of an image push
// then neither hold a large buffer each nor make the pool allocate new ones
// after every collection.
const (
	smallCopyBufferSize = 64 << 10
	copyBufferSize      = 1 << 20
)

var (
	smallCopyBuffers = bufferPool(smallCopyBufferSize)
	copyBuffers      = bufferPool(copyBufferSize)
)

func bufferPool(size int) *sync.Pool {
	return &sync.Pool{New: func() any {
		b := make([]byte, size)
		return &b
	}}
}

// WriteUpload writes r into upload id of the registry at offset, discarding
// whatever the upload held at or past offset, and returns the number of bytes
// written. When the error is nil those bytes and the upload's directory entry
// are on stable storage.
//
// The upload is created by a write at offset 0. Writing at an offset past the
// upload's current size (or past 0 for an upload that does not exist) is
// KindInvalid and changes nothing. When r fails part-way, WriteUpload returns
// the bytes written so far, which are not durable, and an error that wraps
// r's error: it keeps the kind of an *berth.Error from r and is KindInvalid
// otherwise. The caller retries from its last acknowledged offset.
func (s *Store) WriteUpload(ctx context.Context, registry, id string, offset int64, r io.Reader) (int64, error) {
	const op = "fs.WriteUpload"
	if err := checkUpload(op, registry, id); err != nil {
		return 0, err
	}
	if offset < 0 {
		return 0, berth.E(op, berth.KindInvalid, "cannot write upload %s at negative offset %d", id, offset)
	}
	if err := ctx.Err(); err != nil {
		return 0, berth.Wrap(op, berth.KindUnavailable, err)
	}
	f, created, err := s.openForWrite(op, registry, id, offset)
	if err != nil {
		return 0, err
	}
	n, err := writeAt(ctx, op, "upload "+id, f, offset, r)
	if err == nil {
		if serr := f.Sync(); serr != nil {
			err = berth.E(op, berth.KindInternal, "syncing upload %s: %w", id, serr)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = berth.E(op, berth.KindInternal, "closing upload %s: %w", id, cerr)
	}
	if err == nil && created {
		if serr := syncDir(s.uploadsDir(registry)); serr != nil {
			err = berth.E(op, berth.KindInternal, "syncing uploads of registry %q: %w", registry, serr)
		}
	}
	return n, err
}

// openForWrite opens upload id for writing at offset, creating it when it
// does not exist and offset is 0. created reports whether the file is new.
func (s *Store) openForWrite(op, registry, id string, offset int64) (f *os.File, created bool, err error) {
	path := s.uploadPath(registry, id)
	f, err = os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, iofs.ErrNotExist) {
		if offset > 0 {
			return nil, false, berth.E(op, berth.KindInvalid, "upload %s has 0 bytes; cannot write at offset %d", id, offset)
		}
		if err := mkdirAll(s.uploadsDir(registry)); err != nil {
			return nil, false, berth.E(op, berth.KindInternal, "creating uploads directory of registry %q: %w", registry, err)
		}
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		created = err == nil
		if errors.Is(err, iofs.ErrExist) {
			f, err = os.OpenFile(path, os.O_RDWR, 0)
		}
	}
	if err != nil {
		return nil, false, uploadError(op, registry, id, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, false, berth.E(op, berth.KindInternal, "upload %s: %w", id, err)
	}
	if fi.Size() < offset {
		f.Close()
		return nil, false, berth.E(op, berth.KindInvalid, "upload %s has %d bytes; cannot write at offset %d", id, fi.Size(), offset)
	}
	return f, created, nil
}

// writeAt truncates f to offset and copies r to it from there; what names
// the file in errors ("upload <id>").
func writeAt(ctx context.Context, op, what string, f *os.File, offset int64, r io.Reader) (int64, error) {
	if err := f.Truncate(offset); err != nil {
		return 0, berth.E(op, berth.KindInternal, "truncating %s to %d bytes: %w", what, offset, err)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, berth.E(op, berth.KindInternal, "seeking %s to offset %d: %w", what, offset, err)
	}
	if src, ok := r.(*os.File); ok {
		// *os.File.ReadFrom copies file to file in the kernel.
		n, err := io.Copy(f, src)
		if err != nil {
			return n, berth.E(op, berth.KindInternal, "copying into %s: %w", what, err)
		}
		return n, nil
	}
	src := &source{ctx: ctx, r: r}
	n, err := copyPooled(newWritebackWriter(f, offset), src)
	switch {
	case err == nil:
		return n, nil
	case src.err != nil && err == src.err:
		return n, readError(op, what, err)
	default:
		return n, berth.E(op, berth.KindInternal, "writing %s: %w", what, err)
	}
}

// copyPooled copies src to dst as io.Copy does, through a small pooled
// buffer first and a large one only when src has more than fits in it. Only
// io.EOF ends the copy cleanly; any other error of src, io.ErrUnexpectedEOF
// of a body cut short included, is returned.
func copyPooled(dst io.Writer, src io.Reader) (int64, error) {
	small := smallCopyBuffers.Get().(*[]byte)
	defer smallCopyBuffers.Put(small)
	buf := *small
	m := 0
	var err error
	for m < len(buf) && err == nil {
		var k int
		k, err = src.Read(buf[m:])
		m += k
	}
	if m > 0 {
		w, werr := dst.Write(buf[:m])
		if werr == nil && w < m {
			werr = io.ErrShortWrite
		}
		if werr != nil {
			return int64(w), werr
		}
	}
	switch {
	case err == io.EOF:
		return int64(m), nil
	case err != nil:
		return int64(m), err
	}
	large := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(large)
	n, err := io.CopyBuffer(dst, src, *large)
	return int64(m) + n, err
}

// readError describes a failure of the reader that WriteUpload copies from.
func readError(op, what string, err error) error {
	var be *berth.Error
	switch {
	case errors.As(err, &be):
		return berth.E(op, be.Kind, "reading data for %s: %w", what, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return berth.E(op, berth.KindUnavailable, "reading data for %s: %w", what, err)
	default:
		return berth.E(op, berth.KindInvalid, "reading data for %s: %w", what, err)
	}
}

// source reads from r, stopping once ctx is done, and remembers the error r
// returned so that it can be told apart from a write error.
type source struct {
	ctx context.Context
	r   io.Reader
	err error
}

func (s *source) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return 0, err
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// ReadUpload opens the first size bytes of upload id; the caller must close
// the reader. It is KindNotFound when the upload does not exist and
// KindInvalid when it holds fewer than size bytes.
func (s *Store) ReadUpload(ctx context.Context, registry, id string, size int64) (io.ReadCloser, error) {
	const op = "fs.ReadUpload"
	if err := checkUpload(op, registry, id); err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, berth.E(op, berth.KindInvalid, "cannot read a negative number of bytes (%d) of upload %s", size, id)
	}
	if err := ctx.Err(); err != nil {
		return nil, berth.Wrap(op, berth.KindUnavailable, err)
	}
	f, err := os.Open(s.uploadPath(registry, id))
	if err != nil {
		return nil, uploadError(op, registry, id, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, berth.E(op, berth.KindInternal, "upload %s: %w", id, err)
	}
	if fi.Size() < size {
		f.Close()
		return nil, berth.E(op, berth.KindInvalid, "upload %s has %d bytes; cannot read %d", id, fi.Size(), size)
	}
	return newSection(f, size), nil
}

// CommitUpload makes the first size bytes of upload id the blob dgst of the
// registry and removes the upload; the caller has verified the digest. When
// the blob already exists the upload is removed and the blob keeps its
// content. The blob appears by an atomic rename of the fully synced upload, so
// a crash leaves either no blob or the whole blob. It is KindNotFound when the
// upload does not exist and KindInvalid when it holds fewer than size bytes;
// in both cases no blob becomes visible and the upload is left as it was.
func (s *Store) CommitUpload(ctx context.Context, registry, id string, size int64, dgst digest.Digest) error {
	const op = "fs.CommitUpload"
	if err := checkUpload(op, registry, id); err != nil {
		return err
	}
	if err := dgst.Validate(); err != nil {
		return berth.E(op, berth.KindInvalid, "invalid digest %q: %w", string(dgst), err)
	}
	if size < 0 {
		return berth.E(op, berth.KindInvalid, "cannot commit a negative size (%d) of upload %s", size, id)
	}
	if err := ctx.Err(); err != nil {
		return berth.Wrap(op, berth.KindUnavailable, err)
	}
	blob, upload := s.blobPath(registry, dgst), s.uploadPath(registry, id)
	if exists, err := fileExists(blob); err != nil {
		return blobError(op, registry, dgst, err)
	} else if exists {
		return s.removeUpload(op, registry, id)
	}

	f, err := os.OpenFile(upload, os.O_RDWR, 0)
	if err != nil {
		return s.commitRace(op, registry, id, dgst, err)
	}
	if err := truncateAndSync(op, id, f, size, dgst); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return berth.E(op, berth.KindInternal, "closing upload %s: %w", id, err)
	}
	if err := s.moveIntoPlace(op, upload, registry, dgst); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			return s.commitRace(op, registry, id, dgst, err)
		}
		return err
	}
	return nil
}

// truncateAndSync cuts upload f down to size bytes and flushes the cut to
// stable storage (the bytes it keeps were synced by the WriteUpload calls
// that wrote them); it is KindInvalid when f holds fewer than size bytes.
func truncateAndSync(op, id string, f *os.File, size int64, dgst digest.Digest) error {
	fi, err := f.Stat()
	if err != nil {
		return berth.E(op, berth.KindInternal, "upload %s: %w", id, err)
	}
	if fi.Size() < size {
		return berth.E(op, berth.KindInvalid, "upload %s has %d bytes; cannot commit %d bytes as blob %s", id, fi.Size(), size, dgst)
	}
	if fi.Size() == size {
		// Every byte came from a WriteUpload that returned nil, which
		// synced it; the bytes past a failed write are cut off below.
		return nil
	}
	if err := f.Truncate(size); err != nil {
		return berth.E(op, berth.KindInternal, "truncating upload %s to %d bytes: %w", id, size, err)
	}
	if err := f.Sync(); err != nil {
		return berth.E(op, berth.KindInternal, "syncing upload %s: %w", id, err)
	}
	return nil
}

// commitRace handles an upload that vanished during a commit: another commit
// of the same upload may have moved it into place, which is success.
func (s *Store) commitRace(op, registry, id string, dgst digest.Digest, err error) error {
	if !errors.Is(err, iofs.ErrNotExist) {
		return berth.E(op, berth.KindInternal, "committing upload %s as blob %s: %w", id, dgst, err)
	}
	if exists, serr := fileExists(s.blobPath(registry, dgst)); serr == nil && exists {
		return nil
	}
	return uploadError(op, registry, id, err)
}

// AbortUpload removes upload id and its bytes; removing an upload that does
// not exist is not an error.
func (s *Store) AbortUpload(ctx context.Context, registry, id string) error {
	const op = "fs.AbortUpload"
	if err := checkUpload(op, registry, id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return berth.Wrap(op, berth.KindUnavailable, err)
	}
	return s.removeUpload(op, registry, id)
}

func (s *Store) removeUpload(op, registry, id string) error {
	err := os.Remove(s.uploadPath(registry, id))
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return berth.E(op, berth.KindInternal, "removing upload %s of registry %q: %w", id, registry, err)
	}
	return nil
}

// uploadError turns a file system error about upload id into an
// *berth.Error, KindNotFound when the file does not exist.
func uploadError(op, registry, id string, err error) error {
	if errors.Is(err, iofs.ErrNotExist) {
		return berth.E(op, berth.KindNotFound, "upload %s not found in registry %q", id, registry)
	}
	return berth.E(op, berth.KindInternal, "upload %s of registry %q: %w", id, registry, err)
}

func fileExists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, iofs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}
