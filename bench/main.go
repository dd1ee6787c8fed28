package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is every knob of a run.
type config struct {
	berth, repo, registry string
	berthArgs             string
	htpasswd, basic       string
	rounds                int
	only                  string
	quick                 bool
	bigSize, chunkSize    size
	images, imageWorkers  int
	concurrency           int
	client                string
	duration              time.Duration
	tags, tagsSmall       int
	tagsWorkers           int
	tagsSeedTimeout       time.Duration
	tagsDistribution      bool
	tagsSeed              bool
	workdir, out          string
	pin                   bool
	keep                  bool
	quietLimit            float64
	quietMax              time.Duration
	timeout               time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{bigSize: size{1 << 30}, chunkSize: size{64 << 20}}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags]\n\n"+
			"Runs load workloads against berth and CNCF Distribution on 127.0.0.1 and prints a markdown report.\n"+
			"Workloads: %s.\nGroups, selected by their name too: %s.\n\nFlags:\n",
			strings.Join(workloadNames(), ", "), strings.Join(groupNames(), "; "))
		fs.PrintDefaults()
	}
	fs.StringVar(&c.berth, "berth", "", "berth binary; empty builds ./cmd/berth of -repo")
	fs.StringVar(&c.berthArgs, "berth-args", "auto",
		"extra arguments of berth serve; auto: those of "+strings.Join(berthAutoArgs, " ")+
			" that the binary offers (errors-only logging without access log, as Distribution is run, no auth, no rate limits)")
	fs.StringVar(&c.repo, "repo", ".", "module root to build berth from")
	fs.StringVar(&c.registry, "registry", "", "Distribution registry binary (default $(go env GOPATH)/bin/registry)")
	fs.StringVar(&c.htpasswd, "dist-htpasswd", "",
		"htpasswd file (bcrypt) of the basic-auth Distribution of the auth group (default a built-in one, bcrypt cost 5)")
	fs.StringVar(&c.basic, "dist-basic", "", "user:password of -dist-htpasswd")
	fs.IntVar(&c.rounds, "rounds", 1, "rounds per workload; figures are medians")
	fs.StringVar(&c.only, "only", "", "comma-separated workloads to run (default all)")
	fs.BoolVar(&c.quick, "quick", false, "small sizes and short durations for a check run (explicit flags still win)")
	fs.Var(&c.bigSize, "big-size", "size of the big blob (e.g. 1GiB, 64MiB)")
	fs.Var(&c.chunkSize, "chunk-size", "PATCH chunk size of the chunked push")
	fs.IntVar(&c.images, "images", 1000, "small images pushed per round")
	fs.IntVar(&c.imageWorkers, "image-workers", 8, "concurrent small-image pushers")
	fs.IntVar(&c.concurrency, "concurrency", 32, "concurrent clients of the GET and HEAD workloads")
	fs.StringVar(&c.client, "client", clientLean,
		"client of the GET, HEAD and small-image workloads: lean (a connection per worker, driven by the worker itself) or std (net/http)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "duration of each GET and HEAD measurement")
	fs.IntVar(&c.tags, "tags", 1000000, "tags in the large repository of the tags workload")
	fs.IntVar(&c.tagsSmall, "tags-small", 1000, "tags in the small repository of the tags workload")
	fs.IntVar(&c.tagsWorkers, "tags-workers", 64, "concurrent tag seeders")
	fs.DurationVar(&c.tagsSeedTimeout, "tags-seed-timeout", 45*time.Minute, "stop seeding the large tag set after this long")
	fs.BoolVar(&c.tagsSeed, "tags-seed", true,
		"seed the tag sets over HTTP; false reuses those of an earlier run with the same -workdir and -tags")
	fs.BoolVar(&c.tagsDistribution, "tags-distribution", false, "run the tags workload against Distribution too")
	fs.StringVar(&c.workdir, "workdir", "", "directory for data and logs, kept afterwards (default a new temporary directory)")
	fs.BoolVar(&c.pin, "pin", false, "run every server on the last core alone and this tool on the others (taskset), so that the client takes no CPU from the server it measures")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary work directory")
	fs.Float64Var(&c.quietLimit, "quiet-limit", 0.2, "before each run, wait until other processes use fewer cores than this")
	fs.DurationVar(&c.quietMax, "quiet-max", time.Minute, "longest wait for a quiet machine before a run (0: do not wait)")
	fs.StringVar(&c.out, "out", "", "also write the markdown report to this file")
	fs.DurationVar(&c.timeout, "timeout", 3*time.Hour, "stop everything after this long")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		quick := map[string]func(){
			"big-size":   func() { c.bigSize.n = 128 << 20 },
			"chunk-size": func() { c.chunkSize.n = 16 << 20 },
			"images":     func() { c.images = 200 },
			"duration":   func() { c.duration = 3 * time.Second },
			"tags":       func() { c.tags = 20000 },
		}
		for name, apply := range quick {
			if !set[name] {
				apply()
			}
		}
	}
	if c.rounds < 1 || c.images < 1 || c.imageWorkers < 1 || c.concurrency < 1 || c.tags < 1 ||
		c.tagsSmall < 1 || c.tagsWorkers < 1 || c.chunkSize.n < 1 || c.bigSize.n < 1 || c.duration <= 0 {
		return nil, errors.New("counts, sizes and durations must be positive")
	}
	if c.client != clientLean && c.client != clientStd {
		return nil, fmt.Errorf("-client %q: want %s or %s", c.client, clientLean, clientStd)
	}
	if (c.htpasswd == "") != (c.basic == "") {
		return nil, errors.New("-dist-htpasswd and -dist-basic go together")
	}
	if c.registry == "" {
		c.registry = defaultRegistryPath()
	}
	return c, nil
}

func workloadNames() []string {
	var names []string
	for _, w := range allWorkloads() {
		names = append(names, w.name)
	}
	return names
}

// groupNames describes each workload group as "group (member, ...)".
func groupNames() []string {
	var groups []string
	members := map[string][]string{}
	for _, w := range allWorkloads() {
		if w.group == "" {
			continue
		}
		if members[w.group] == nil {
			groups = append(groups, w.group)
		}
		members[w.group] = append(members[w.group], w.name)
	}
	for i, g := range groups {
		groups[i] = g + " (" + strings.Join(members[g], ", ") + ")"
	}
	return groups
}

// size is a byte count flag that accepts KiB, MiB and GiB suffixes.
type size struct{ n int64 }

func (s *size) String() string {
	switch {
	case s.n >= 1<<30 && s.n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", s.n>>30)
	case s.n >= 1<<20 && s.n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", s.n>>20)
	case s.n >= 1<<10 && s.n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", s.n>>10)
	}
	return strconv.FormatInt(s.n, 10)
}

func (s *size) Set(v string) error {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if t, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = t, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("bad size %q", v)
	}
	s.n = n * mult
	return nil
}

// numCPU is the machine's count of CPUs, also when -pin left this tool
// fewer.
func numCPU() int {
	if n, err := strconv.Atoi(os.Getenv(pinnedEnv)); err == nil {
		return n + 1 // the servers' core is the last
	}
	return runtime.NumCPU()
}

// bench is the state of one run.
type bench struct {
	cfg    *config
	big    *bigBlobs
	res    *results
	stderr io.Writer

	mu   sync.Mutex
	tags map[string]*tagSet
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// run parses args, starts the servers, runs the workloads and writes the
// report to stdout (and -out). "ceiling-serve ADDR DIR" runs the ceiling server.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "ceiling-serve" {
		return serveCeiling(args[1:], stderr)
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.pin && os.Getenv(pinnedEnv) == "" {
		return runPinned(ctx, args, stdout, stderr)
	}
	ws, err := selectWorkloads(cfg.only)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	work := cfg.workdir
	if work == "" {
		if work, err = os.MkdirTemp("", "berth-bench-"); err != nil {
			return err
		}
		if !cfg.keep {
			defer os.RemoveAll(work)
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	b := &bench{cfg: cfg, big: newBigBlobs(cfg.bigSize.n), res: newResults(), stderr: stderr,
		tags: map[string]*tagSet{}}
	b.logf("work directory %s", work)

	targets, err := b.start(ctx, work, ws)
	for _, t := range targets {
		if !t.shared {
			defer t.srv.stop()
		}
	}
	if err != nil {
		return err
	}
	started := time.Now()
	// The RSS target is about the main workloads; when other workloads
	// follow them in the run, the peak is also read where they end.
	rssRow := "peak RSS"
	for i, w := range ws {
		if i > 0 && mainWorkload(ws[i-1]) && !mainWorkload(w) {
			rssRow = "peak RSS after the main workloads"
			b.recordRSS(targets, rssRow)
		}
		if err := b.runWorkload(ctx, w, targets); err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
	}
	b.recordRSS(targets, "peak RSS")
	for _, t := range targets {
		if a, ok := t.c.auth.(*tokenAuth); ok {
			b.logf("%s: the client asked the token service for %d access tokens", t.name, a.fetches.Load())
		}
	}

	h := header{command: "go run ./bench " + strings.Join(args, " "), started: started,
		elapsed: time.Since(started), rounds: cfg.rounds, notes: b.notes(ws)}
	var buf bytes.Buffer
	b.res.write(&buf, h, groupSections(), targetsToMeet(rssRow))
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if cfg.out != "" {
		return os.WriteFile(cfg.out, buf.Bytes(), 0o644)
	}
	return nil
}

func selectWorkloads(only string) ([]*workload, error) {
	all := allWorkloads()
	if only == "" {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		if !slices.ContainsFunc(all, func(w *workload) bool { return w.name == n || w.group == n }) {
			return nil, fmt.Errorf("unknown workload %q (have %s; groups %s)", n,
				strings.Join(workloadNames(), ", "), strings.Join(groupNames(), "; "))
		}
		want[n] = true
	}
	var ws []*workload
	for _, w := range all {
		if want[w.name] || want[w.group] {
			ws = append(ws, w)
		}
	}
	return ws, nil
}

// start builds berth if needed and starts the servers the workloads need.
func (b *bench) start(ctx context.Context, work string, ws []*workload) ([]*target, error) {
	need := map[string]bool{targetBerth: true, targetDistribution: true}
	for _, w := range ws {
		for _, t := range w.targets(b.cfg) {
			need[t] = true
		}
	}
	conns := max(b.cfg.concurrency, b.cfg.imageWorkers, b.cfg.tagsWorkers)
	bin := b.cfg.berth
	if bin == "" {
		b.logf("building berth from %s", b.cfg.repo)
		var err error
		if bin, err = buildBerth(ctx, b.cfg.repo, work); err != nil {
			return nil, err
		}
	}
	args := strings.Fields(b.cfg.berthArgs)
	if b.cfg.berthArgs == "auto" {
		args = berthArgs(ctx, bin)
	}
	var targets []*target
	starters := []struct {
		name  string
		start func() (*target, error)
	}{
		{targetBerth, func() (*target, error) {
			b.logf("berth serve arguments: %s", strings.Join(args, " "))
			return startBerth(ctx, bin, args, work, conns)
		}},
		{targetBerthAuth, func() (*target, error) {
			b.logf("berth with auth: serve arguments: %s", strings.Join(authArgs(args), " "))
			return startBerthAuth(ctx, bin, args, work, conns)
		}},
		{targetDistribution, func() (*target, error) {
			return startDistribution(ctx, targetDistribution, b.cfg.registry, work, "", nil, conns)
		}},
		{targetDistBasic, func() (*target, error) { return startDistBasic(ctx, b.cfg, work, conns) }},
		{targetCeiling, func() (*target, error) { return startCeiling(ctx, work, conns) }},
	}
	for _, s := range starters {
		if !need[s.name] {
			continue
		}
		t, err := s.start()
		if err != nil {
			return targets, err
		}
		b.logf("%s ready at %s (pid %d)", t.name, t.c.base, t.srv.pid())
		targets = append(targets, t)
		if t.is(targetBerth) && (need[targetDirect] || need[targetRedirect]) {
			targets = append(targets, dataEndpointTargets(t, conns)...)
		}
	}
	return targets, nil
}

// runWorkload prepares every target of w, then runs the rounds, each round
// visiting the targets in the order of roundOrder.
func (b *bench) runWorkload(ctx context.Context, w *workload, all []*target) error {
	var ts []*target
	for _, name := range w.targets(b.cfg) {
		if i := slices.IndexFunc(all, func(t *target) bool { return t.is(name) }); i >= 0 {
			ts = append(ts, all[i])
		}
	}
	if w.prepare != nil {
		for _, t := range ts {
			b.logf("%s: preparing %s", w.name, t.name)
			ms, err := w.prepare(ctx, b, t)
			if err != nil {
				return fmt.Errorf("prepare %s: %w", t.name, err)
			}
			b.res.add(w.name, t.name, ms)
		}
	}
	for r := range b.cfg.rounds * max(w.repeat, 1) {
		for _, t := range roundOrder(ts, r, w.group != "") {
			other := b.waitQuiet(ctx, all)
			rctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
			ms, err := w.run(rctx, b, t, r)
			cancel()
			if err == nil {
				err = t.srv.alive()
			}
			if err != nil {
				return fmt.Errorf("round %d on %s: %w", r+1, t.name, err)
			}
			b.logf("%s: round %d on %s: %s (others used %.2f cores before)", w.name, r+1, t.name, summary(ms), other)
			b.res.add(w.name, t.name, ms)
		}
	}
	return nil
}

// roundOrder returns the targets in the order of round r. Each round starts
// one target later than the one before, so that no target always runs right
// after another one's writes. Paired targets (a target, then its variant,
// as in the workloads of a group) stay next to each other, so that the two
// runs of a pair see the same machine: the pairs rotate, and in every other
// round the variant runs first.
func roundOrder(ts []*target, r int, paired bool) []*target {
	out := make([]*target, 0, len(ts))
	if !paired || len(ts)%2 != 0 {
		for i := range ts {
			out = append(out, ts[(i+r)%len(ts)])
		}
		return out
	}
	n := len(ts) / 2
	for i := range n {
		p := (i + r) % n
		first, second := ts[2*p], ts[2*p+1]
		if r%2 == 1 {
			first, second = second, first
		}
		out = append(out, first, second)
	}
	return out
}

func summary(ms []metric) string {
	var parts []string
	for _, m := range ms {
		if !m.cpu {
			parts = append(parts, fmt.Sprintf("%s %s %s", m.name, num(m.value), m.unit))
		}
	}
	return strings.Join(parts, ", ")
}

// mainWorkload reports whether w is one of the workloads that compare berth
// with Distribution and the ceiling, outside the groups and the tags.
func mainWorkload(w *workload) bool { return w.group == "" && w.name != "tags" }

// recordRSS adds each server's VmHWM so far as a row of the peak-rss workload.
func (b *bench) recordRSS(targets []*target, row string) {
	for _, t := range targets {
		if t.shared {
			continue
		}
		if v, err := peakRSS(t.srv.pid()); err == nil {
			b.res.add("peak-rss", t.name, []metric{{name: row, unit: "MiB", value: float64(v) / (1 << 20)}})
		}
	}
}

func (b *bench) notes(ws []*workload) []string {
	c := b.cfg
	var group []string
	for _, w := range ws {
		if w.group != "" && !slices.Contains(group, w.group) {
			group = append(group, w.group)
		}
	}
	var extra []string
	if slices.Contains(group, groupAuth) {
		extra = append(extra, "auth: berth runs a second time with --auth=true --rate-limits=off; its client exchanges the operator credential "+
			"for a refresh token once, gets one access token per repository from POST /oauth2/token and keeps it until a 401; "+
			"Distribution runs a second time with htpasswd basic auth (bcrypt), sent with every request; "+
			fmt.Sprintf("auth-pull reads the big blob %d times per run", pullsPerRun))
	}
	if slices.Contains(group, groupRedirect) {
		extra = append(extra, fmt.Sprintf("redirect: berth without auth, data endpoint of the registry default on (redirect) or off (direct), "+
			"switched through the management API before each run; redirect-pull runs %d rounds of %d pulls each per round; "+
			"the small-blob GETs read %d distinct blobs of %d bytes in turn, one at a time",
			pullRounds, pullsPerRun, smallBlobCount, smallBlobSize))
	}
	return append([]string{
		fmt.Sprintf("machine: %d CPU, %s/%s, %s", numCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version()),
		fmt.Sprintf("big blob %s, read %d times per pull run, chunk %s; %d small images by %d workers; %d clients for %s per GET/HEAD measurement; %s client for small images, GET and HEAD",
			&c.bigSize, pullsPerRun, &c.chunkSize, c.images, c.imageWorkers, c.concurrency, c.duration, c.client),
		fmt.Sprintf("tags: %d vs %d tags (target %d), seeded by %d workers", c.tagsSmall, c.tags, c.tags, c.tagsWorkers),
		"MB/s is 10^6 bytes per second; the ceiling is a plain Go server (http.ServeFile for GET; PUT streams into a file while hashing SHA-256, then fsync)",
		layout(),
		fmt.Sprintf("before each run the tool waited up to %s for other processes to use under %.2f cores", c.quietMax, c.quietLimit),
	}, extra...)
}
