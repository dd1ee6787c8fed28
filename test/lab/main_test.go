package lab

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// berthBin is the berth binary the lab runs, set by TestMain.
var berthBin string

// goBinDir is where go install puts the client tools: $(go env GOBIN), or
// else the bin directory of the first GOPATH entry.
var goBinDir string

// moduleRoot is the directory of the module's go.mod.
var moduleRoot string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOBIN", "GOPATH", "GOMOD").Output(); err == nil {
		lines := strings.Split(string(out), "\n")
		for len(lines) < 3 {
			lines = append(lines, "")
		}
		gobin, gopath, gomod := strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1]), strings.TrimSpace(lines[2])
		switch {
		case gobin != "":
			goBinDir = gobin
		case gopath != "":
			goBinDir = filepath.Join(filepath.SplitList(gopath)[0], "bin")
		}
		if gomod != "" && gomod != os.DevNull {
			moduleRoot = filepath.Dir(gomod)
		}
	}
	if testing.Short() || os.Geteuid() != 0 {
		return m.Run() // every lab test skips (or fails in CI) without building
	}
	if bin := os.Getenv("BERTH_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			fmt.Fprintf(os.Stderr, "lab: BERTH_BIN: %v\n", err)
			return 1
		}
		berthBin = abs
		return m.Run()
	}
	// The lab runs berth as root from inside namespaces: build it into a
	// directory that every namespace sees (they share the file system).
	dir, err := os.MkdirTemp("", "berth-lab-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	berthBin = filepath.Join(dir, "berth")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", berthBin, "./cmd/berth")
	cmd.Dir = moduleRoot
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "lab: building ./cmd/berth: %v\n%s", err, buf.String())
		return 1
	}
	return m.Run()
}

// inCI reports whether the tests run in CI, where every requirement must
// be met.
func inCI() bool { return os.Getenv("CI") == "true" }

// unmet skips t, or fails it in CI, because msg says what is missing.
func unmet(t *testing.T, msg string) {
	t.Helper()
	if inCI() {
		t.Fatal(msg + " (required when CI=true)")
	}
	t.Skip(msg)
}

// requireLab checks what every lab test needs: not -short, root, and the
// ip, nft and curl commands.
func requireLab(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("network lab: skipped with -short")
	}
	if os.Geteuid() != 0 {
		unmet(t, "the network lab needs root (CI runs as root)")
	}
	for _, need := range [][2]string{{"ip", "iproute2"}, {"nft", "nftables"}, {"curl", "curl"}} {
		if _, err := exec.LookPath(need[0]); err != nil {
			unmet(t, fmt.Sprintf("the network lab needs %s: apt-get install %s", need[0], need[1]))
		}
	}
}

// tool returns the path of the client binary name, looked up on PATH and in
// the directory of go install. A missing tool skips the test, or fails it
// in CI.
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
	unmet(t, fmt.Sprintf("%s not found on PATH or in %s: run scripts/test.sh, which installs it", name, goBinDir))
	return ""
}

// findAzurite returns azurite-blob from PATH or from the project-local
// install that scripts/test.sh makes under .cache/azurite.
func findAzurite(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("azurite-blob"); err == nil {
		return p
	}
	if moduleRoot != "" {
		p := filepath.Join(moduleRoot, ".cache", "azurite", "node_modules", ".bin", "azurite-blob")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	unmet(t, "azurite-blob is neither on PATH nor in .cache/azurite/node_modules/.bin: run scripts/test.sh, which installs it")
	return ""
}

// runTimeout bounds one command of the lab: ip, nft, a CLI call or a pull.
const runTimeout = 30 * time.Second

// run runs name with args and the environment additions env, bounded by
// ctx and runTimeout, and returns its standard output and error output.
// The error says whether the command timed out.
func run(ctx context.Context, env []string, name string, args ...string) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 2 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (timed out: %v)", err, ctx.Err())
	}
	if err != nil {
		err = &cmdError{cmd: name + " " + strings.Join(args, " "), err: err, stderr: errb.String()}
	}
	return out.Bytes(), errb.Bytes(), err
}

// cmdError is a failed command with what it printed on its error output.
type cmdError struct {
	cmd    string
	err    error
	stderr string
}

func (e *cmdError) Error() string {
	return fmt.Sprintf("%s: %v\n%s", e.cmd, e.err, clip(e.stderr, 4<<10))
}

func (e *cmdError) Unwrap() error { return e.err }

// stderrOf returns the error output of a failed command, or err's text.
func stderrOf(err error) string {
	if ce, ok := errors.AsType[*cmdError](err); ok {
		return ce.stderr
	}
	return err.Error()
}

// clip keeps the head and the tail of s, max bytes in all.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return fmt.Sprintf("%s\n... (%d bytes cut) ...\n%s", s[:max/2], len(s)-max, s[len(s)-max/2:])
}
