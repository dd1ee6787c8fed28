package fs

import "os"

// writebackStep is how many bytes a writebackWriter lets pile up before it
// asks the kernel to start writing them to disk.
const writebackStep = 8 << 20

// writebackWriter writes to a file and, every writebackStep bytes, starts
// the kernel writing the bytes just written back to disk without waiting
// for it (sync_file_range with SYNC_FILE_RANGE_WRITE). The disk then works
// while the rest of the body arrives, and the fsync that ends the write
// finds little left to do, instead of all of it at once. It is a hint: it
// makes nothing durable, and a failure of it is ignored.
// It also hides the io.ReaderFrom of the file, so that io.CopyBuffer uses
// its large buffer instead of the file's small generic one.
type writebackWriter struct {
	f       *os.File
	fd      int
	off     int64 // file offset of the next byte written
	flushed int64 // bytes before this offset were handed to the kernel
}

// newWritebackWriter writes to f, whose offset is off.
func newWritebackWriter(f *os.File, off int64) *writebackWriter {
	return &writebackWriter{f: f, fd: int(f.Fd()), off: off, flushed: off}
}

func (w *writebackWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.flushed >= writebackStep {
		startWriteback(w.fd, w.flushed, w.off-w.flushed)
		w.flushed = w.off
	}
	return n, err
}
