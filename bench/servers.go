package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is one process under test, started and stopped by this tool.
type server struct {
	name   string
	cmd    *exec.Cmd
	log    *os.File
	exited chan struct{}
	err    error // set before exited is closed
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer runs bin with args, its stdout and stderr going to logPath.
func startServer(name, bin string, args, env []string, logPath string) (*server, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := serverCommand(bin, args)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, log: log, exited: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// waitReady polls url until it answers with status want, the process
// exits, or timeout.
func (s *server) waitReady(ctx context.Context, hc *http.Client, url string, auth authorizer, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if auth != nil {
			if err := auth.authorize(req); err != nil {
				return err
			}
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited before it was ready (%v); see %s", s.name, s.err, s.log.Name())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready at %s after %s (last error %v); see %s", s.name, url, timeout, err, s.log.Name())
		}
	}
}

// stop sends SIGTERM to the process this tool started, then SIGKILL after a
// grace period, and waits for it.
func (s *server) stop() {
	if s == nil {
		return
	}
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	s.log.Close()
}

// alive returns an error if the process has exited.
func (s *server) alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("%s exited: %v; see %s", s.name, s.err, s.log.Name())
	default:
		return nil
	}
}

// clockTick is the kernel's USER_HZ, 100 on every Linux this tool targets.
const clockTick = 100

// processCPU returns the user plus system CPU time used so far by pid.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / clockTick, nil
}

// peakRSS returns VmHWM of pid in bytes.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// machineCPU returns the busy and total CPU time of the whole machine so
// far, summed over all CPUs, from /proc/stat.
func machineCPU() (busy, total time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, errors.New("malformed /proc/stat")
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if i >= 8 { // guest time is already counted in user time
			break
		}
		d := time.Duration(n) * time.Second / clockTick
		total += d
		if i != 3 && i != 4 { // idle and iowait
			busy += d
		}
	}
	return busy, total, nil
}

// selfCPU returns the user plus system CPU time used so far by this process.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// buildBerth builds cmd/berth of the module in repo into dir.
func buildBerth(ctx context.Context, repo, dir string) (string, error) {
	out := filepath.Join(dir, "berth")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/berth")
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/berth: %w\n%s", err, b)
	}
	return out, nil
}

// berthAutoArgs are the berth serve flags that make a node comparable with
// the way Distribution is run here: errors-only logging without access log,
// no authentication and no rate limits.
var berthAutoArgs = []string{"--access-log=false", "--log-level=error", "--auth=false", "--rate-limits=off"}

// berthArgs returns those of berthAutoArgs that `bin serve -h` lists.
func berthArgs(ctx context.Context, bin string) []string {
	help, _ := exec.CommandContext(ctx, bin, "serve", "-h").CombinedOutput()
	var args []string
	for _, a := range berthAutoArgs {
		name, _, _ := strings.Cut(a, "=")
		if bytes.Contains(help, []byte(name+" ")) {
			args = append(args, a)
		}
	}
	return args
}

// defaultRegistryPath returns $(go env GOPATH)/bin/registry.
func defaultRegistryPath() string {
	b, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "registry"
	}
	return filepath.Join(strings.TrimSpace(string(b)), "bin", "registry")
}

// distConfig is what the generated Distribution config.yml varies by.
type distConfig struct {
	addr     string
	root     string
	htpasswd string // empty: no auth
}

// yaml renders the configuration: filesystem storage, the in-memory blob
// descriptor cache of Distribution's example configuration, errors-only
// logging without access log, and htpasswd basic auth when set.
func (c distConfig) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
`, c.root, c.addr)
	if c.htpasswd != "" {
		fmt.Fprintf(&b, `auth:
  htpasswd:
    realm: bench
    path: %s
`, c.htpasswd)
	}
	return b.String()
}
