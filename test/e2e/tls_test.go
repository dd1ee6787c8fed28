package e2e

import (
	"archive/tar"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTLSWithLocalCA starts berth serve --tls, exports the local CA with
// berth ca export, and has crane push and pull over HTTPS trusting only
// that CA; a client that does not trust it is refused.
func TestTLSWithLocalCA(t *testing.T) {
	t.Parallel()
	crane := tool(t, "crane")
	s := startTLSServer(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pem := command{bin: berthBin, args: []string{"ca", "export", "--data-dir", s.dataDir}}.run(t)
	if !strings.Contains(string(pem), "BEGIN CERTIFICATE") {
		t.Fatalf("berth ca export printed %q", pem)
	}
	if err := os.WriteFile(caFile, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	trusting := []string{"HOME=" + home, "DOCKER_CONFIG=" + home, "SSL_CERT_FILE=" + caFile, "SSL_CERT_DIR=" + t.TempDir()}
	c := func(args ...string) command { return command{bin: crane, args: args, env: trusting} }
	ref := s.localhost() + "/tls/app:v1"
	c("append", "-f", emptyTar(t), "-t", ref).run(t)
	if out := string(c("ls", s.localhost()+"/tls/app").run(t)); strings.TrimSpace(out) != "v1" {
		t.Fatalf("crane ls over TLS = %q", out)
	}
	untrusting := command{bin: crane, args: []string{"ls", s.localhost() + "/tls/app"},
		env: []string{"HOME=" + home, "DOCKER_CONFIG=" + home, "SSL_CERT_FILE=/nonexistent", "SSL_CERT_DIR=" + t.TempDir()}}
	if msg := untrusting.fail(t); !strings.Contains(msg, "certificate") {
		t.Errorf("a client without the CA: %s", msg)
	}
}

// startTLSServer starts berth serve --tls and waits until it answers over
// HTTPS, trusting the local CA it created.
func startTLSServer(t *testing.T) *server {
	t.Helper()
	requireServerBinary(t)
	s := &server{t: t, args: []string{"--auth=false", "--tls"}, dataDir: t.TempDir(), port: freePort(t), logs: &syncBuffer{}}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("stopping berth: %v", err)
		}
		if t.Failed() {
			t.Logf("berth log:\n%s", clipTo(s.logs.Bytes(), 64<<10))
		}
	})
	s.startNoWait()
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		pem, err := os.ReadFile(filepath.Join(s.dataDir, "tls", "ca.pem"))
		if err == nil {
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			c := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			if resp, err := c.Get("https://" + s.localhost() + "/v2/"); err == nil {
				resp.Body.Close()
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("berth --tls not ready:\n%s", clip(s.logs.Bytes()))
	return nil
}

// emptyTar writes a tarball holding one small file, a layer for crane append.
func emptyTar(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "layer.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	body := []byte("hello over TLS\n")
	tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(body))})
	tw.Write(body)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
