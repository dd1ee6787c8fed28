//go:build unix

package metadata

import (
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
)

// BenchmarkLinkUploadedBlob links new blobs, as the PUT that completes an
// upload does, into ten repositories of a store with its tag index, from
// one goroutine (every batch holds one job) and from eight: the cost of a
// blob's metadata write, group commit included, with synchronous=FULL as
// the SQLite store opens it. cpu-ns/op is the process's CPU per link.
func BenchmarkLinkUploadedBlob(b *testing.B) {
	for _, callers := range []int{1, 8} {
		b.Run(strconv.Itoa(callers), func(b *testing.B) {
			s := openIndexedStore(b, filepath.Join(b.TempDir(), "metadata.db"), 1000)
			ctx := b.Context()
			if _, err := s.write.ExecContext(ctx, "PRAGMA synchronous=FULL"); err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			link := func() {
				i := n.Add(1)
				d := digest.FromString(strconv.FormatInt(i, 10))
				repo := "app" + strconv.FormatInt(i%10, 10)
				if err := s.LinkUploadedBlob(ctx, "r", repo, d, 100, "u"+strconv.FormatInt(i, 10)); err != nil {
					b.Fatal(err)
				}
			}
			cpu0 := processCPU(b)
			b.ResetTimer()
			if callers == 1 {
				for b.Loop() {
					link()
				}
			} else {
				b.SetParallelism((callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						link()
					}
				})
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU returns the CPU time, user and system, that the process has
// used, in nanoseconds.
func processCPU(b *testing.B) int64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return u.Utime.Nano() + u.Stime.Nano()
}
