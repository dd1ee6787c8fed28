package e2e

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

const (
	crashWorkers   = 8
	crashPushFor   = 2 * time.Second  // pushes run at least this long before SIGKILL
	crashPushMax   = 30 * time.Second // and at most this long, waiting for crashMinAcked
	crashMinAcked  = crashWorkers     // acknowledged pushes wanted before SIGKILL
	crashLayers    = 3
	crashLayerSize = 16 << 10
)

// TestCrashDuringPush kills berth with SIGKILL while eight clients push, and
// checks after a restart on the same data directory that nothing is lost or
// half-visible: every acknowledged push is complete, every tag that exists
// names a complete image, and interrupted pushes can be repeated.
func TestCrashDuringPush(t *testing.T) {
	t.Parallel()
	crashDuringPush(t, startServer(t))
}

// TestCrashDuringPushPostgres is TestCrashDuringPush with the metadata in
// PostgreSQL, in a database of its own.
func TestCrashDuringPushPostgres(t *testing.T) {
	t.Parallel()
	requireServerBinary(t)
	crashDuringPush(t, startServer(t, "--metadata", postgresDatabase(t)))
}

// pushJob is one image push: the tag it goes to and the image.
type pushJob struct {
	tag string
	img v1.Image
}

func crashDuringPush(t *testing.T, s *server) {
	repo := parseRepo(t, s.addr()+"/crash/app")
	noRetry := []remote.Option{
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
		remote.WithRetryPredicate(func(error) bool { return false }),
	}

	pushCtx, stopPushing := context.WithTimeout(context.Background(), crashPushMax+time.Minute)
	defer stopPushing()
	var (
		killed      atomic.Bool
		running     atomic.Int32
		mu          sync.Mutex
		acked       = map[string]v1.Hash{} // remote.Write returned success
		interrupted []pushJob              // the push each worker was in when the server died
		earlyErrs   []string               // failures while the server was up
		wg          sync.WaitGroup
	)
	for w := range crashWorkers {
		wg.Add(1)
		running.Add(1)
		go func() {
			defer wg.Done()
			defer running.Add(-1)
			for n := 0; pushCtx.Err() == nil; n++ {
				img, err := random.Image(crashLayerSize, crashLayers)
				if err != nil {
					panic(err)
				}
				job := pushJob{tag: fmt.Sprintf("w%d-%04d", w, n), img: img}
				err = remote.Write(repo.Tag(job.tag), img, remoteOptions(pushCtx, noRetry...)...)
				mu.Lock()
				switch {
				case err == nil:
					d, derr := img.Digest()
					if derr != nil {
						panic(derr)
					}
					acked[job.tag] = d
				case killed.Load():
					interrupted = append(interrupted, job)
				default:
					earlyErrs = append(earlyErrs, fmt.Sprintf("push %s: %v", job.tag, err))
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	// Crash after crashPushFor, once enough pushes have finished that the
	// check below means something even on a slow machine.
	start := time.Now()
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		elapsed := time.Since(start)
		if elapsed >= crashPushMax || (elapsed >= crashPushFor && n >= crashMinAcked) || running.Load() == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	killed.Store(true)
	s.kill()
	stopPushing()
	wg.Wait()

	for _, e := range earlyErrs {
		t.Errorf("while the server was up: %s", e)
	}
	if len(acked) == 0 {
		t.Fatalf("no push finished in %s before the crash", crashPushMax)
	}
	t.Logf("%d pushes acknowledged, %d interrupted by SIGKILL", len(acked), len(interrupted))

	s.start()
	ctx := testContext(t, 2*time.Minute)
	opts := remoteOptions(ctx)

	// Every acknowledged push survived, whole.
	for _, tag := range sortedKeys(acked) {
		checkPulled(t, repo.Tag(tag), acked[tag], opts)
	}
	// Every tag that exists names a whole image: nothing is half-visible.
	tags, err := remote.List(repo, opts...)
	if err != nil {
		t.Fatalf("listing tags after the crash: %v", err)
	}
	listed := map[string]bool{}
	for _, tag := range tags {
		listed[tag] = true
		if _, ok := acked[tag]; !ok {
			checkPulled(t, repo.Tag(tag), v1.Hash{}, opts)
		}
	}
	for tag := range acked {
		if !listed[tag] {
			t.Errorf("acknowledged tag %s is missing from the tag list after the crash", tag)
		}
	}

	// Leftover uploads and locks wedge nothing: the interrupted pushes, and
	// new ones, go through concurrently.
	jobs := append([]pushJob(nil), interrupted...)
	for w := range crashWorkers {
		img, err := random.Image(crashLayerSize, crashLayers)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, pushJob{tag: fmt.Sprintf("after-%d", w), img: img})
	}
	errs := make([]error, len(jobs))
	var again sync.WaitGroup
	for i, job := range jobs {
		again.Add(1)
		go func() {
			defer again.Done()
			errs[i] = remote.Write(repo.Tag(job.tag), job.img, opts...)
		}()
	}
	again.Wait()
	for i, job := range jobs {
		if errs[i] != nil {
			t.Errorf("push %s after the restart: %v", job.tag, errs[i])
			continue
		}
		checkPulled(t, repo.Tag(job.tag), digestOf(t, job.img), opts)
	}
}

// checkPulled pulls ref and validates the whole image, layers included.
// A non-zero want is the digest the reference must resolve to.
func checkPulled(t *testing.T, ref name.Reference, want v1.Hash, opts []remote.Option) {
	t.Helper()
	img, err := remote.Image(ref, opts...)
	if err != nil {
		t.Errorf("pulling %s: %v", ref, err)
		return
	}
	if got := digestOf(t, img); want != (v1.Hash{}) && got != want {
		t.Errorf("%s resolves to %s, want %s", ref, got, want)
	}
	if err := validate.Image(img); err != nil {
		t.Errorf("%s is not a complete image: %v", ref, err)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
