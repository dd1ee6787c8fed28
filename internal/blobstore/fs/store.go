package fs

import (
	_ "crypto/sha256" // makes digest.SHA256 available to Digest.Validate
	_ "crypto/sha512" // makes digest.SHA384 and digest.SHA512 available
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// Store is a berth.BlobStore that keeps every registry's blobs and uploads in
// a directory tree under one root. It is safe for concurrent use; the
// metadata store decides which writer of an upload wins. Every method returns
// KindInvalid for a malformed registry name, upload id or digest before it
// touches the disk, and KindUnavailable when ctx is already done.
type Store struct {
	root string
}

var _ berth.BlobStore = (*Store)(nil)

// New returns a Store rooted at root, creating the directory (and its
// parents) if it does not exist. The error is KindInternal when root cannot
// be created or is not a directory.
func New(root string) (*Store, error) {
	const op = "fs.New"
	if root == "" {
		return nil, berth.E(op, berth.KindInvalid, "blob store root is empty")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, berth.E(op, berth.KindInternal, "resolving blob store root %q: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, berth.E(op, berth.KindInternal, "creating blob store root: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, berth.E(op, berth.KindInternal, "checking blob store root: %w", err)
	}
	if !fi.IsDir() {
		return nil, berth.E(op, berth.KindInternal, "blob store root %q is not a directory", abs)
	}
	return &Store{root: abs}, nil
}

// Root returns the absolute path of the directory the store keeps its files in.
func (s *Store) Root() string { return s.root }

func checkRegistry(op, registry string) error { return berth.CheckRegistryName(op, registry) }

func checkUpload(op, registry, id string) error {
	if err := berth.CheckRegistryName(op, registry); err != nil {
		return err
	}
	return berth.CheckUploadID(op, id)
}

func checkBlob(op, registry string, dgst digest.Digest) error {
	if err := checkRegistry(op, registry); err != nil {
		return err
	}
	if err := dgst.Validate(); err != nil {
		return berth.E(op, berth.KindInvalid, "invalid digest %q: %w", string(dgst), err)
	}
	return nil
}

// blobPath returns the file of blob dgst; dgst must have been validated.
func (s *Store) blobPath(registry string, dgst digest.Digest) string {
	hex := dgst.Encoded()
	return filepath.Join(s.root, registry, "blobs", dgst.Algorithm().String(), hex[:2], hex)
}

func (s *Store) uploadsDir(registry string) string {
	return filepath.Join(s.root, registry, "uploads")
}

// uploadPath returns the file of upload id; both names must have been validated.
func (s *Store) uploadPath(registry, id string) string {
	return filepath.Join(s.uploadsDir(registry), id)
}

// mkdirAll creates dir and its missing parents, fsyncing the parent of every
// directory it creates so that the new entries survive a crash.
func mkdirAll(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return &iofs.PathError{Op: "mkdir", Path: dir, Err: errors.New("not a directory")}
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, iofs.ErrExist) {
		return err
	}
	// Also sync when another writer created dir first: its sync may not have
	// happened yet, and ours must not report success before the entry is durable.
	return syncDir(parent)
}

// syncDir fsyncs a directory, making the entries created or renamed in it
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
