//go:build unix

package sqlite

import (
	"errors"
	"os"
	"syscall"
)

// lockWorks says that lockFile keeps other processes out, which the tag
// index needs.
const lockWorks = true

// lockFile opens, creating it if needed, the file at path and takes an
// exclusive lock on it that lasts until the file is closed, or the process
// ends. It fails with errLocked when another open file holds the lock.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	return f, nil
}
