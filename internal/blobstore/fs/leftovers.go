package fs

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"time"

	"berth/internal/berth"
)

// UploadsWrittenBefore returns the uploads, of every registry, whose bytes
// were last written before before: Registry, ID and UpdatedAt (the file's
// modification time) of each. It finds the bytes of sessions that never got
// a record, which a crash between a first chunk and its record leaves
// behind, for the caller to remove when no open session owns them.
func (s *Store) UploadsWrittenBefore(ctx context.Context, before time.Time) ([]berth.Upload, error) {
	const op = "fs.UploadsWrittenBefore"
	regs, err := os.ReadDir(s.root)
	if err != nil {
		return nil, berth.E(op, berth.KindInternal, "listing registries: %w", err)
	}
	var old []berth.Upload
	for _, reg := range regs {
		if err := ctx.Err(); err != nil {
			return nil, berth.Wrap(op, berth.KindUnavailable, err)
		}
		if !reg.IsDir() || berth.CheckRegistryName(op, reg.Name()) != nil {
			continue
		}
		files, err := os.ReadDir(s.uploadsDir(reg.Name()))
		if errors.Is(err, iofs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, berth.E(op, berth.KindInternal, "listing uploads of registry %q: %w", reg.Name(), err)
		}
		for _, f := range files {
			if checkUpload(op, reg.Name(), f.Name()) != nil {
				continue
			}
			fi, err := f.Info()
			if errors.Is(err, iofs.ErrNotExist) {
				continue // committed or removed meanwhile
			}
			if err != nil {
				return nil, berth.E(op, berth.KindInternal, "upload %s of registry %q: %w", f.Name(), reg.Name(), err)
			}
			if fi.Mode().IsRegular() && fi.ModTime().Before(before) {
				old = append(old, berth.Upload{Registry: reg.Name(), ID: f.Name(), UpdatedAt: fi.ModTime()})
			}
		}
	}
	return old, nil
}
