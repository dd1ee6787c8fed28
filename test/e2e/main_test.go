package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// berthBin is the berth binary under test, set by TestMain.
var berthBin string

// goBinDir is where go install puts the client tools: $(go env GOBIN), or
// else the bin directory of the first GOPATH entry.
var goBinDir string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		gobin, gopath, _ := strings.Cut(string(out), "\n")
		gobin, gopath = strings.TrimSpace(gobin), strings.TrimSpace(gopath)
		switch {
		case gobin != "":
			goBinDir = gobin
		case gopath != "":
			goBinDir = filepath.Join(filepath.SplitList(gopath)[0], "bin")
		}
	}
	if testing.Short() {
		return m.Run()
	}
	if bin := os.Getenv("BERTH_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: BERTH_BIN: %v\n", err)
			return 1
		}
		berthBin = abs
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "berth-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	berthBin = filepath.Join(dir, "berth")
	if err := buildBerth(berthBin); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building ./cmd/berth: %v\n", err)
		return 1
	}
	return m.Run()
}

// buildBerth builds ./cmd/berth of the module that holds this package into out.
func buildBerth(out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/berth")
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w\n%s", err, buf.String())
	}
	return nil
}

// requireServerBinary skips the test in -short mode, where TestMain builds
// no binary.
func requireServerBinary(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
}

// inCI reports whether the tests run in CI, where every tool must be present.
func inCI() bool { return os.Getenv("CI") == "true" }

// tool returns the path of the client binary name, looked up on PATH and in
// $(go env GOPATH)/bin. A missing tool skips the test, or fails it in CI.
func tool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if goBinDir != "" {
		p := filepath.Join(goBinDir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	msg := fmt.Sprintf("%s not found on PATH or in %s: run scripts/test.sh, which installs it", name, goBinDir)
	if inCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// cmdTimeout bounds every client command a test runs.
const cmdTimeout = 2 * time.Minute

// command is one client invocation: a binary, its arguments and the extra
// environment it runs with.
type command struct {
	bin  string
	args []string
	env  []string
	dir  string
}

// run runs c with a timeout and returns its standard output. It fails the
// test, showing both output streams, when the command fails.
func (c command) run(t *testing.T) []byte {
	t.Helper()
	stdout, stderr, err := c.exec()
	if err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", c, err, clip(stdout), clip(stderr))
	}
	return stdout
}

// fail runs c and expects it to fail; it returns the combined output.
func (c command) fail(t *testing.T) string {
	t.Helper()
	stdout, stderr, err := c.exec()
	if err == nil {
		t.Fatalf("%s succeeded, want an error\nstdout:\n%s\nstderr:\n%s", c, clip(stdout), clip(stderr))
	}
	return string(stdout) + string(stderr)
}

func (c command) exec() (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, c.args...)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Dir = c.dir
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (timed out after %s)", err, cmdTimeout)
	}
	return out.Bytes(), errb.Bytes(), err
}

func (c command) String() string {
	return filepath.Base(c.bin) + " " + strings.Join(c.args, " ")
}

// clip shortens long command output for a failure message.
func clip(b []byte) string { return clipTo(b, 8<<10) }

// clipTo keeps the head and the tail of b, max bytes in all.
func clipTo(b []byte, max int) string {
	if len(b) <= max {
		return string(b)
	}
	return fmt.Sprintf("%s\n... (%d bytes cut) ...\n%s", b[:max/2], len(b)-max, b[len(b)-max/2:])
}
