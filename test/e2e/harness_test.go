package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	readyTimeout = 10 * time.Second // from start until GET /v2/ answers 200
	stopTimeout  = 10 * time.Second // from SIGTERM until the process must be gone
)

// server is one berth process under test. Restarts keep its port and data
// directory, so references that name its address stay valid.
type server struct {
	t       *testing.T
	args    []string // serve arguments after --listen and --data-dir
	dataDir string
	port    int
	logs    *syncBuffer // stderr and stdout of every run, in order

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current process has exited
	err  error         // the current process's exit error, once done
	shot bool          // the current process was killed by kill
}

// startServer starts berth serve on a free loopback port with a fresh data
// directory and waits until it is ready. Authentication is off unless
// extraArgs turn it on (--auth=true; see startAuthServer). The server is
// stopped at cleanup; its log is shown when the test failed.
func startServer(t *testing.T, extraArgs ...string) *server {
	t.Helper()
	requireServerBinary(t)
	s := &server{
		t:       t,
		args:    append([]string{"--auth=false"}, extraArgs...),
		dataDir: t.TempDir(),
		port:    freePort(t),
		logs:    &syncBuffer{},
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("stopping berth with SIGTERM: %v", err)
		}
		if t.Failed() {
			t.Logf("berth log (%s):\n%s", s.dataDir, clipTo(s.logs.Bytes(), 64<<10))
		}
	})
	s.start()
	return s
}

// addr is host:port on 127.0.0.1.
func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// localhost is host:port with the host name localhost.
func (s *server) localhost() string { return "localhost:" + strconv.Itoa(s.port) }

// url returns the http URL of path on the server.
func (s *server) url(path string) string { return "http://" + s.addr() + path }

func (s *server) start() {
	s.t.Helper()
	s.waitReady(s.startNoWait())
}

// startNoWait starts the process and returns a channel closed when it exits.
func (s *server) startNoWait() <-chan struct{} {
	s.t.Helper()
	args := append([]string{"serve", "--listen", s.addr(), "--data-dir", s.dataDir}, s.args...)
	cmd := exec.Command(berthBin, args...)
	cmd.Stdout = s.logs
	cmd.Stderr = s.logs
	cmd.WaitDelay = 5 * time.Second
	fmt.Fprintf(s.logs, "--- berth %v\n", args)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting berth: %v", err)
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.done, s.err, s.shot = cmd, done, nil, false
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		fmt.Fprintf(s.logs, "--- berth exited: %v\n", err)
		close(done)
	}()
	return done
}

// waitReady polls GET /v2/ until it answers 200 (or 401 with auth on), failing the test when the
// process exits first or readyTimeout passes.
func (s *server) waitReady(done <-chan struct{}) {
	s.t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-done:
			s.t.Fatalf("berth exited before it was ready: %v\n%s", s.exitErr(), clip(s.logs.Bytes()))
		default:
		}
		resp, err := client.Get(s.url("/v2/"))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("berth not ready after %s (last answer of GET /v2/: %s)\n%s", readyTimeout, last, clip(s.logs.Bytes()))
}

func (s *server) exitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// stop sends SIGTERM and waits up to stopTimeout, then kills the process. It
// returns the exit error of a graceful stop, or an error saying that the
// process had to be killed. When the process has already exited, stop
// returns the error of that exit, or nil after kill.
func (s *server) stop() error {
	s.mu.Lock()
	cmd, done, shot := s.cmd, s.done, s.shot
	s.mu.Unlock()
	if cmd == nil || shot {
		return nil
	}
	select {
	case <-done:
		return s.exitErr()
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return s.exitErr()
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("berth did not exit within %s of SIGTERM and was killed", stopTimeout)
	}
}

// kill sends SIGKILL, as a crash would, and waits for the process to go.
func (s *server) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	s.mu.Lock()
	s.shot = true
	s.mu.Unlock()
	_ = cmd.Process.Kill()
	<-done
	fmt.Fprintln(s.logs, "--- berth killed with SIGKILL")
}

// restart stops the server gracefully and starts it again on the same port
// and data directory. The graceful stop must exit with status 0.
func (s *server) restart() {
	s.t.Helper()
	if err := s.stop(); err != nil {
		s.t.Errorf("graceful stop before restart: %v", err)
	}
	s.start()
}

// freePort returns a loopback TCP port that was free a moment ago. It
// prefers ports below the kernel's ephemeral range, so that no outgoing
// connection takes the port while a server restarts on it.
func freePort(t *testing.T) int {
	t.Helper()
	if low := ephemeralLow(); low > 20000 {
		for range 50 {
			port := 10000 + mathrand.IntN(low-10000)
			if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
				l.Close()
				return port
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ephemeralLow returns the lowest port of Linux's ephemeral range, or 0.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// syncBuffer is a bytes.Buffer that several goroutines may write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written so far.
func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// testContext returns a context that ends after d or when the test ends.
func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
