//go:build !unix

package sqlite

import "os"

// lockWorks is false: without flock another process could write the
// database unseen, so the store holds no tag index here.
const lockWorks = false

// lockFile opens the file at path; where flock does not exist nothing stops
// a second process.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
