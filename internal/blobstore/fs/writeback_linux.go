package fs

import "golang.org/x/sys/unix"

// startWriteback asks the kernel to start writing n bytes of fd at off to
// disk, without waiting.
func startWriteback(fd int, off, n int64) {
	_ = unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
}
