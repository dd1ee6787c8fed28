package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// workload is one measured scenario. prepare runs once per target, untimed;
// run runs once per round and target and times only its measured part.
// Workloads of a group are selected together by the group's name and
// reported in a table of their own; their targets come in pairs, a target
// and then its variant, and run next to each other in every round.
type workload struct {
	name    string
	group   string
	repeat  int // rounds per round of -rounds; 0 is 1
	targets func(cfg *config) []string
	prepare func(ctx context.Context, b *bench, t *target) ([]metric, error)
	run     func(ctx context.Context, b *bench, t *target, round int) ([]metric, error)
}

func registries(*config) []string { return []string{targetBerth, targetDistribution} }
func withCeiling(*config) []string {
	return []string{targetBerth, targetDistribution, targetCeiling}
}

// allWorkloads lists every workload in the order they run.
func allWorkloads() []*workload {
	ws := []*workload{
		{name: "push-mono", targets: withCeiling, run: runPushMono},
		{name: "push-chunked", targets: withCeiling, run: runPushChunked},
		{name: "pull", targets: withCeiling, prepare: preparePull, run: runPull},
		{name: "small-images", targets: registries, run: smallImages(100, "small")},
		{name: "manifest-get", targets: registries, prepare: prepareHot, run: runManifestGet},
		{name: "blob-head", targets: registries, prepare: prepareHot, run: runBlobHead},
	}
	ws = append(ws, authWorkloads()...)
	ws = append(ws, redirectWorkloads()...)
	return append(ws, &workload{name: "tags", targets: tagTargets, prepare: prepareTags, run: runTags})
}

// span measures wall time and the CPU used by this process and by the
// server while the timed part of a run goes on.
type span struct {
	t               *target
	start           time.Time
	self, srv, busy time.Duration
}

func startSpan(t *target) *span {
	srv, _ := processCPU(t.srv.pid())
	busy, _, _ := machineCPU()
	return &span{t: t, start: time.Now(), self: selfCPU(), srv: srv, busy: busy}
}

// end returns the elapsed time and the CPU figures in cores.
func (s *span) end() (time.Duration, []metric) {
	el := time.Since(s.start)
	self := selfCPU() - s.self
	srv, err := processCPU(s.t.srv.pid())
	ms := []metric{{name: "client CPU", unit: "cores", value: self.Seconds() / el.Seconds(), cpu: true}}
	if err == nil {
		ms = append(ms, metric{name: "server CPU", unit: "cores", value: (srv - s.srv).Seconds() / el.Seconds(), cpu: true})
	}
	if busy, _, err := machineCPU(); err == nil {
		ms = append(ms, metric{name: "machine CPU", unit: "cores", value: (busy - s.busy).Seconds() / el.Seconds(), cpu: true})
	}
	return el, ms
}

func throughput(size int64, el time.Duration) []metric {
	return []metric{{name: "throughput", unit: "MB/s", value: float64(size) / 1e6 / el.Seconds()}}
}

const bigRepo = "bench/big"

// settle flushes dirty pages of earlier runs and waits, up to 30 s, until
// no disk has written anything for half a second, so that the write-back of
// one run does not slow the next.
func settle() {
	syscall.Sync()
	deadline := time.Now().Add(30 * time.Second)
	last := diskWrites()
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		now := diskWrites()
		if now == last {
			return
		}
		last = now
	}
}

// diskWrites returns the sectors written so far, summed over all block
// devices in /proc/diskstats; -1 if it cannot be read.
func diskWrites() int64 {
	b, err := os.ReadFile("/proc/diskstats")
	if err != nil {
		return -1
	}
	var sum int64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 {
			continue
		}
		n, err := strconv.ParseInt(f[9], 10, 64)
		if err == nil {
			sum += n
		}
	}
	return sum
}

func runPushMono(ctx context.Context, b *bench, t *target, round int) ([]metric, error) {
	return pushBig(ctx, b, t, 1+round, "mono", func(ctx context.Context, blob content, digest string) error {
		return t.c.pushMonolithic(ctx, bigRepo, digest, blob.size, blob.reader(0, blob.size))
	})
}

func runPushChunked(ctx context.Context, b *bench, t *target, round int) ([]metric, error) {
	return pushBig(ctx, b, t, 1001+round, "chunked", func(ctx context.Context, blob content, digest string) error {
		return t.c.pushChunked(ctx, bigRepo, digest, blob, b.cfg.chunkSize.n)
	})
}

// pushBig times one push of variant v; the ceiling gets the same bytes as
// one plain PUT, whatever the registry protocol.
func pushBig(ctx context.Context, b *bench, t *target, v int, label string,
	push func(ctx context.Context, blob content, digest string) error) ([]metric, error) {
	blob := b.big.variant(v)
	digest, err := b.big.digest(v)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s-%d", label, v)
	settle()
	sp := startSpan(t)
	if t.is(targetCeiling) {
		err = t.ceilingPut(ctx, name, blob.reader(0, blob.size), blob.size)
	} else {
		err = push(ctx, blob, digest)
	}
	el, cpu := sp.end()
	if err != nil {
		return nil, err
	}
	if t.is(targetCeiling) {
		_ = os.Remove(filepath.Join(t.dir, name))
	}
	return append(throughput(blob.size, el), cpu...), nil
}

func preparePull(ctx context.Context, b *bench, t *target) ([]metric, error) {
	blob := b.big.variant(0)
	digest, err := b.big.digest(0)
	if err != nil {
		return nil, err
	}
	if t.is(targetCeiling) {
		return nil, t.ceilingPut(ctx, "pull", blob.reader(0, blob.size), blob.size)
	}
	ok, err := t.c.blobExists(ctx, bigRepo, digest)
	if err != nil || ok {
		return nil, err
	}
	return nil, t.c.pushMonolithic(ctx, bigRepo, digest, blob.size, blob.reader(0, blob.size))
}

// pullsPerRun is how many times one run of a pull workload reads the big
// blob: a single pull over loopback takes well under a second and varies by
// some 20 % from the next on a small shared machine, more than what the
// workloads look for.
const pullsPerRun = 4

// runPull times pullsPerRun reads of the big blob, with its length
// verified, from a registry or from the ceiling.
func runPull(ctx context.Context, b *bench, t *target, _ int) ([]metric, error) {
	digest, err := b.big.digest(0)
	if err != nil {
		return nil, err
	}
	size := b.big.size
	buf := make([]byte, 1<<20)
	settle()
	sp := startSpan(t)
	for range pullsPerRun {
		if t.is(targetCeiling) {
			err = t.ceilingGet(ctx, "pull", size, buf)
		} else {
			err = t.c.pullBlob(ctx, bigRepo, digest, size, buf)
		}
		if err != nil {
			break
		}
	}
	el, cpu := sp.end()
	if err != nil {
		return nil, err
	}
	return append(throughput(pullsPerRun*size, el), cpu...), nil
}

// smallImage returns image i of a set: a config and two layers of 1–16 KiB.
func smallImage(set, i int) image {
	seed := uint64(set)<<32 | uint64(i)
	return newImage(seed, 1024+int64(mix(seed)%(15*1024)), 1024+int64(mix(seed^0xff)%(15*1024)))
}

// smallImages returns the run of a small-images workload: -images images
// of set firstSet+round, pushed into ten repositories under prefix, new in
// every round.
func smallImages(firstSet int, prefix string) func(ctx context.Context, b *bench, t *target, round int) ([]metric, error) {
	return func(ctx context.Context, b *bench, t *target, round int) ([]metric, error) {
		return runSmallImages(ctx, b, t, firstSet+round, fmt.Sprintf("%s/r%d", prefix, round))
	}
}

func runSmallImages(ctx context.Context, b *bench, t *target, set int, prefix string) ([]metric, error) {
	n := b.cfg.images
	imgs := make([]image, n)
	for i := range imgs {
		imgs[i] = smallImage(set, i)
	}
	rc, err := t.c.rater(b.cfg.client, b.cfg.imageWorkers)
	if err != nil {
		return nil, err
	}
	defer rc.close()
	settle()
	sp := startSpan(t)
	st, err := countLoop(ctx, b.cfg.imageWorkers, n, func(ctx context.Context, w, i int) error {
		repo := fmt.Sprintf("%s/app%d", prefix, i%10)
		return rc.push(ctx, w, repo, fmt.Sprintf("v%d", i), imgs[i])
	})
	el, cpu := sp.end()
	if err != nil {
		return nil, err
	}
	return append([]metric{
		{name: "images/s", unit: "images/s", value: float64(n) / el.Seconds()},
		{name: "p50 image", unit: "ms", value: st.percentile(50)},
		{name: "p99 image", unit: "ms", value: st.percentile(99)},
	}, cpu...), nil
}

// hotImages is the set that manifest-get and blob-head read.
const (
	hotRepo   = "hot/app"
	hotImages = 16
)

func prepareHot(ctx context.Context, b *bench, t *target) ([]metric, error) {
	for i := range hotImages {
		if err := t.c.push(ctx, hotRepo, fmt.Sprintf("t%d", i), smallImage(1, i)); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func rateMetrics(st loadStats) []metric {
	return []metric{
		{name: "rps", unit: "req/s", value: st.rate()},
		{name: "p50", unit: "ms", value: st.percentile(50)},
		{name: "p99", unit: "ms", value: st.percentile(99)},
	}
}

func runManifestGet(ctx context.Context, b *bench, t *target, _ int) ([]metric, error) {
	sizes := make([]int, hotImages)
	for i := range sizes {
		sizes[i] = len(smallImage(1, i).manifest)
	}
	refs := make([]string, hotImages)
	for i := range refs {
		refs[i] = fmt.Sprintf("t%d", i)
	}
	rc, err := t.c.rater(b.cfg.client, b.cfg.concurrency)
	if err != nil {
		return nil, err
	}
	defer rc.close()
	sp := startSpan(t)
	st, err := closedLoop(ctx, b.cfg.concurrency, b.cfg.duration, func(ctx context.Context, w, j int) error {
		k := (w + j) % hotImages
		return rc.getManifest(ctx, w, hotRepo, refs[k], sizes[k])
	})
	_, cpu := sp.end()
	if err != nil {
		return nil, err
	}
	return append(rateMetrics(st), cpu...), nil
}

func runBlobHead(ctx context.Context, b *bench, t *target, _ int) ([]metric, error) {
	type blob struct {
		digest string
		size   int64
	}
	var blobs []blob
	for i := range hotImages {
		img := smallImage(1, i)
		blobs = append(blobs, blob{digestOf(img.config), int64(len(img.config))})
		for _, l := range img.layers {
			blobs = append(blobs, blob{digestOf(l), int64(len(l))})
		}
	}
	rc, err := t.c.rater(b.cfg.client, b.cfg.concurrency)
	if err != nil {
		return nil, err
	}
	defer rc.close()
	sp := startSpan(t)
	st, err := closedLoop(ctx, b.cfg.concurrency, b.cfg.duration, func(ctx context.Context, w, j int) error {
		bl := blobs[(w+j)%len(blobs)]
		return rc.headBlob(ctx, w, hotRepo, bl.digest, bl.size)
	})
	_, cpu := sp.end()
	if err != nil {
		return nil, err
	}
	return append(rateMetrics(st), cpu...), nil
}
