package azblob_test

import (
	"crypto/rand"
	"encoding/base64"
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
	"testing"
	"time"
)

// The storage accounts of the Azurite instance the tests share: the store
// under test lives in account, and attacker is a second tenant of the same
// service.
const (
	account  = "registry"
	attacker = "attacker"
)

// azurite is the Azurite blob service that TestMain starts for the tests of
// this package.
var azurite struct {
	endpoint string            // "http://127.0.0.1:<port>"
	keys     map[string]string // base64 shared key of each account
	err      error             // why Azurite is not running
}

func TestMain(m *testing.M) {
	stop, err := startAzurite()
	azurite.err = err
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// needAzurite skips t when Azurite is not running, and fails it when the
// environment says it runs in CI, where Azurite must be installed.
func needAzurite(t testing.TB) {
	t.Helper()
	if azurite.err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("Azurite is required when CI=true: %v", azurite.err)
	}
	t.Skipf("Azurite is not available: %v", azurite.err)
}

// serviceURL returns the blob endpoint of an account of the running Azurite.
func serviceURL(acct string) string { return azurite.endpoint + "/" + acct }

// findAzurite looks for azurite-blob on PATH and then in the project-local
// install that scripts/test.sh makes under .cache/azurite.
func findAzurite() (string, error) {
	if p, err := exec.LookPath("azurite-blob"); err == nil {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".cache", "azurite", "node_modules", ".bin", "azurite-blob")
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("azurite-blob is neither on PATH nor in .cache/azurite/node_modules/.bin; scripts/test.sh installs it")
}

// startAzurite starts azurite-blob on a free loopback port with a temporary
// workspace and the two accounts, and returns a function that stops it and
// removes the workspace.
func startAzurite() (stop func(), err error) {
	bin, err := findAzurite()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "berth-azurite-")
	if err != nil {
		return nil, err
	}
	keys := map[string]string{account: randomKey(), attacker: randomKey()}
	for attempt := 1; ; attempt++ {
		stop, err := runAzurite(bin, dir, keys)
		if err == nil {
			azurite.keys = keys
			return func() { stop(); os.RemoveAll(dir) }, nil
		}
		// Another process may have taken the port between probe and start.
		if attempt == 3 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

func runAzurite(bin, dir string, keys map[string]string) (stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "azurite.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin,
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--location", filepath.Join(dir, "data"),
		"--disableTelemetry", "--skipApiVersionCheck", "--loose")
	cmd.Env = append(os.Environ(), fmt.Sprintf("AZURITE_ACCOUNTS=%s:%s;%s:%s", account, keys[account], attacker, keys[attacker]))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	tieToParent(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
	}
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitReady(endpoint, exited); err != nil {
		stop()
		out, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("azurite-blob on port %d: %w; its output:\n%s", port, err, strings.TrimSpace(string(out)))
	}
	azurite.endpoint = endpoint
	return stop, nil
}

// waitReady polls Azurite until it answers HTTP, it exits, or 60 seconds pass.
func waitReady(endpoint string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("it exited during start-up")
		default:
		}
		resp, err := client.Get(endpoint + "/" + account + "?comp=list")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("it did not answer within 60 seconds")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomKey() string {
	b := make([]byte, 64)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
