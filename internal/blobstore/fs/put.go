package fs

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// PutBlob stores a whole blob that arrives in one stream: it writes r to a
// temporary file beside the blob, calls check with the number of bytes read
// once r is exhausted, and only when check returns nil makes the synced file
// blob dgst by an atomic rename. It costs two syncs (the file and the blob's
// directory) where WriteUpload followed by CommitUpload costs three. The
// caller verifies the content in check (typically against a hash it fed
// while r was read); check's error is returned as it is and nothing becomes
// visible. When the blob already exists its content is kept. Errors of r are
// wrapped as by WriteUpload; other failures are KindInternal.
func (s *Store) PutBlob(ctx context.Context, registry string, dgst digest.Digest, r io.Reader, check func(size int64) error) (int64, error) {
	const op = "fs.PutBlob"
	if err := checkBlob(op, registry, dgst); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, berth.Wrap(op, berth.KindUnavailable, err)
	}
	// The temporary file is made in the blob's own directory: the rename is
	// then within one directory, and concurrent puts spread over the
	// directories of their digests instead of all locking one. A name that
	// starts with a dot is never a blob's.
	dir := filepath.Dir(s.blobPath(registry, dgst))
	if err := mkdirAll(dir); err != nil {
		return 0, berth.E(op, berth.KindInternal, "creating directory for blob %s: %w", dgst, err)
	}
	f, err := os.CreateTemp(dir, ".put-")
	if err != nil {
		return 0, berth.E(op, berth.KindInternal, "creating a temporary file for blob %s: %w", dgst, err)
	}
	tmp := f.Name()
	n, err := writeAt(ctx, op, "blob "+dgst.String(), f, 0, r)
	if err == nil {
		err = check(n)
	}
	if err == nil {
		if serr := f.Sync(); serr != nil {
			err = berth.E(op, berth.KindInternal, "syncing blob %s: %w", dgst, serr)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = berth.E(op, berth.KindInternal, "closing blob %s: %w", dgst, cerr)
	}
	if err == nil {
		err = s.place(op, tmp, registry, dgst)
	}
	if err != nil {
		os.Remove(tmp)
		return n, err
	}
	return n, nil
}

// place makes the synced file tmp blob dgst; an existing blob is kept and
// tmp removed.
func (s *Store) place(op, tmp, registry string, dgst digest.Digest) error {
	if exists, err := fileExists(s.blobPath(registry, dgst)); err != nil {
		return blobError(op, registry, dgst, err)
	} else if exists {
		os.Remove(tmp)
		return nil
	}
	if err := s.moveIntoPlace(op, tmp, registry, dgst); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			return berth.E(op, berth.KindInternal, "moving blob %s into place: %w", dgst, err)
		}
		return err
	}
	return nil
}

// moveIntoPlace renames the synced file src to the path of blob dgst and
// syncs the blob's directory, so that the blob is durable once it returns
// nil. A failed rename is returned as the *os.LinkError it is, for the
// caller to judge; other failures are KindInternal.
func (s *Store) moveIntoPlace(op, src, registry string, dgst digest.Digest) error {
	blob := s.blobPath(registry, dgst)
	dir := filepath.Dir(blob)
	if err := mkdirAll(dir); err != nil {
		return berth.E(op, berth.KindInternal, "creating directory for blob %s: %w", dgst, err)
	}
	if err := os.Rename(src, blob); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return berth.E(op, berth.KindInternal, "syncing directory of blob %s: %w", dgst, err)
	}
	return nil
}
