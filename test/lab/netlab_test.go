package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// subnet holds every address of the lab. The root namespace gets an
// unreachable route for it before anything else is made, so that nothing
// from the root namespace ever leaves the machine towards it.
const subnet = "10.200.0.0/16"

// netnsDir is where ip netns exec finds a namespace's hosts and
// resolv.conf, bind-mounted over those of /etc.
const netnsDir = "/etc/netns"

// labSeq numbers the labs of this process, so that every lab's names are
// unique on the machine: the prefix holds the process id and this number.
var labSeq atomic.Int32

// lab is a set of hosts, each a network namespace with a veth pair to a
// bridge in a namespace of its own. Nothing in it has a default route. A
// lab is torn down at the end of its test, whether the test passed or not.
type lab struct {
	t      *testing.T
	ctx    context.Context // ends at the lab's deadline
	dir    string          // scratch files: firewall scripts, process logs
	prefix string          // every namespace's name starts with it
	metric int             // of this lab's unreachable route

	mu         sync.Mutex
	routeAdded bool
	namespaces []string // in order of creation; the bridge's first
	procs      []*proc
}

// labPrefix is the start of every lab's namespace names.
const labPrefix = "berthlab-"

// newLab adds the unreachable route and the bridge namespace. The lab's
// commands end at ctx's deadline; teardown is registered with t.Cleanup
// before anything is made.
func newLab(t *testing.T, ctx context.Context) *lab {
	t.Helper()
	n := labSeq.Add(1)
	l := &lab{
		t:      t,
		ctx:    ctx,
		dir:    t.TempDir(),
		prefix: fmt.Sprintf("%s%d-%d", labPrefix, os.Getpid(), n),
		// Routes to one prefix may coexist when their metrics differ: each
		// lab adds and removes its own.
		metric: 1<<24 + (os.Getpid()%(1<<20))*16 + int(n%16),
	}
	t.Cleanup(l.teardown)
	if err := l.checkRoutes(); err != nil {
		t.Fatal(err)
	}
	l.ip("route", "add", "unreachable", subnet, "metric", strconv.Itoa(l.metric))
	l.mu.Lock()
	l.routeAdded = true
	l.mu.Unlock()

	br := l.addNamespace("net")
	l.ip("-n", br, "link", "add", "name", "br0", "type", "bridge")
	l.ip("-n", br, "link", "set", "br0", "up")
	return l
}

// checkRoutes refuses a machine whose root namespace routes lab addresses
// somewhere: the lab's addresses would collide with a real network.
func (l *lab) checkRoutes() error {
	out, _, err := run(l.ctx, nil, "ip", "-o", "route", "show", "table", "all", "root", subnet)
	if err != nil {
		return err
	}
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) > 0 && f[0] != "unreachable" {
			return fmt.Errorf("the root namespace has a route into the lab's %s (%s): refusing to build the lab", subnet, strings.TrimSpace(line))
		}
	}
	return nil
}

// ip runs ip with args in the root namespace (it only configures; it never
// sends a packet) and fails the test when it fails.
func (l *lab) ip(args ...string) {
	l.t.Helper()
	if _, _, err := run(l.ctx, nil, "ip", args...); err != nil {
		l.t.Fatal(err)
	}
}

// addNamespace creates the namespace <prefix>-<role> with loopback up, and
// its /etc/netns directory with a resolv.conf that points at 127.0.0.1, so
// that a name missing from its hosts file fails at once.
func (l *lab) addNamespace(role string) string {
	l.t.Helper()
	ns := l.prefix + "-" + role
	l.ip("netns", "add", ns)
	l.mu.Lock()
	l.namespaces = append(l.namespaces, ns)
	l.mu.Unlock()
	l.ip("-n", ns, "link", "set", "lo", "up")
	if err := os.MkdirAll(filepath.Join(netnsDir, ns), 0o755); err != nil {
		l.t.Fatal(err)
	}
	l.writeEtc(ns, "resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
	l.writeEtc(ns, "hosts", "127.0.0.1 localhost\n::1 localhost\n")
	return ns
}

func (l *lab) writeEtc(ns, name, content string) {
	l.t.Helper()
	// Written in place: a process of the namespace keeps the file it
	// bind-mounted at start and sees the new content.
	if err := os.WriteFile(filepath.Join(netnsDir, ns, name), []byte(content), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// host is one machine of the lab: a namespace with the lab addresses it
// owns on its eth0.
type host struct {
	lab   *lab
	ns    string
	addrs []string
}

// addHost creates a host named role with the given addresses of the lab's
// subnet, attached to the bridge.
func (l *lab) addHost(role string, addrs ...string) *host {
	l.t.Helper()
	ns := l.addNamespace(role)
	br := l.namespaces[0]
	l.ip("-n", br, "link", "add", "name", role, "type", "veth", "peer", "name", "eth0", "netns", ns)
	l.ip("-n", br, "link", "set", "dev", role, "master", "br0", "up")
	for _, a := range addrs {
		l.ip("-n", ns, "addr", "add", a+"/16", "dev", "eth0")
	}
	l.ip("-n", ns, "link", "set", "eth0", "up")
	return &host{lab: l, ns: ns, addrs: addrs}
}

// setHosts replaces the host's /etc/hosts with localhost and lines
// ("address name ...").
func (h *host) setHosts(lines ...string) {
	h.lab.t.Helper()
	h.lab.writeEtc(h.ns, "hosts", "127.0.0.1 localhost\n::1 localhost\n"+strings.Join(lines, "\n")+"\n")
}

// setFirewall replaces the host's nftables rules with an egress allowlist:
// loopback and the TCP destinations allow ("address:port") pass, every
// other TCP connection is reset at once and everything else is dropped.
func (h *host) setFirewall(allow []string) {
	h.lab.t.Helper()
	var b strings.Builder
	b.WriteString("flush ruleset\ntable inet lab {\n\tchain output {\n")
	b.WriteString("\t\ttype filter hook output priority filter; policy drop;\n")
	b.WriteString("\t\toifname \"lo\" accept\n")
	for _, a := range allow {
		addr, port, ok := strings.Cut(a, ":")
		if !ok {
			h.lab.t.Fatalf("firewall destination %q is not address:port", a)
		}
		fmt.Fprintf(&b, "\t\tip daddr %s tcp dport %s accept\n", addr, port)
	}
	b.WriteString("\t\tmeta l4proto tcp reject with tcp reset\n\t}\n}\n")
	path := filepath.Join(h.lab.dir, h.ns+".nft")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		h.lab.t.Fatal(err)
	}
	if _, _, err := h.exec(nil, "nft", "-f", path); err != nil {
		h.lab.t.Fatalf("loading the firewall of %s:\n%s\n%v", h.ns, b.String(), err)
	}
}

// exec runs bin with args inside the host's namespace, bounded by the lab's
// deadline and runTimeout.
func (h *host) exec(env []string, bin string, args ...string) (stdout, stderr []byte, err error) {
	return run(h.lab.ctx, env, "ip", append([]string{"netns", "exec", h.ns, bin}, args...)...)
}

// mustExec is exec that fails the test when the command fails.
func (h *host) mustExec(env []string, bin string, args ...string) []byte {
	h.lab.t.Helper()
	out, _, err := h.exec(env, bin, args...)
	if err != nil {
		h.lab.t.Fatalf("in %s: %v", h.ns, err)
	}
	return out
}

// proc is a server process that runs in a lab host until teardown.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string        // path of its combined output
	done chan struct{} // closed once it has exited
}

// start starts bin with args in the host's namespace, its output going to
// a log file, and returns at once. Teardown stops it by its process id
// (ip netns exec replaces itself with bin).
func (h *host) start(name string, env []string, bin string, args ...string) *proc {
	h.lab.t.Helper()
	logPath := filepath.Join(h.lab.dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		h.lab.t.Fatal(err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", h.ns, bin}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		h.lab.t.Fatalf("starting %s in %s: %v", name, h.ns, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	h.lab.mu.Lock()
	h.lab.procs = append(h.lab.procs, p)
	h.lab.mu.Unlock()
	return p
}

// output returns what the process has printed so far.
func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// stop sends SIGTERM, then SIGKILL after a grace period, and waits for the
// process to be gone.
func (p *proc) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return fmt.Errorf("%s (pid %d) ignored SIGTERM for %s and was killed", p.name, p.cmd.Process.Pid, grace)
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) is still running after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// waitHTTP polls url with curl from inside the host until it answers with
// any HTTP status, failing the test when p exits first or after timeout.
func (h *host) waitHTTP(p *proc, url string, timeout time.Duration) {
	h.lab.t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) && h.lab.ctx.Err() == nil {
		select {
		case <-p.done:
			h.lab.t.Fatalf("%s exited before it answered:\n%s", p.name, clip(p.output(), 16<<10))
		default:
		}
		out, stderr, err := h.exec(nil, "curl", "-s", "-S", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1", url)
		if code := strings.TrimSpace(string(out)); err == nil && code != "000" {
			return
		}
		last = strings.TrimSpace(string(stderr))
		time.Sleep(50 * time.Millisecond)
	}
	h.lab.t.Fatalf("%s did not answer %s within %s (last: %s):\n%s", p.name, url, timeout, last, clip(p.output(), 16<<10))
}

// teardown stops the processes, deletes the namespaces and their /etc/netns
// directories and removes the route, whatever happened before. It reports
// what it could not undo as test errors.
func (l *lab) teardown() {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l.mu.Lock()
	procs, namespaces, routeAdded := l.procs, l.namespaces, l.routeAdded
	l.mu.Unlock()
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		if err := p.stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
		if l.t.Failed() {
			l.t.Logf("output of %s:\n%s", p.name, clip(p.output(), 32<<10))
		}
	}
	for i := len(namespaces) - 1; i >= 0; i-- {
		ns := namespaces[i]
		if _, _, err := run(ctx, nil, "ip", "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
		if err := os.RemoveAll(filepath.Join(netnsDir, ns)); err != nil {
			errs = append(errs, err)
		}
	}
	if routeAdded {
		if _, _, err := run(ctx, nil, "ip", "route", "del", "unreachable", subnet, "metric", strconv.Itoa(l.metric)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		l.t.Errorf("lab teardown: %v", err)
	}
	l.t.Logf("lab %s torn down in %s", l.prefix, time.Since(start).Round(time.Millisecond))
}

// leftovers lists what the lab with this prefix and route metric left on
// the machine: namespaces, /etc/netns directories and its route.
func leftovers(ctx context.Context, prefix string, metric int) ([]string, error) {
	var found []string
	out, _, err := run(ctx, nil, "ip", "netns", "list")
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], prefix+"-") {
			found = append(found, "namespace "+f[0])
		}
	}
	dirs, err := filepath.Glob(filepath.Join(netnsDir, prefix+"-*"))
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		found = append(found, "directory "+d)
	}
	out, _, err = run(ctx, nil, "ip", "-o", "route", "show", "table", "all", "root", subnet)
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if i := slices.Index(f, "metric"); i >= 0 && i+1 < len(f) && f[i+1] == strconv.Itoa(metric) {
			found = append(found, "route "+strings.TrimSpace(line))
		}
	}
	return found, nil
}
