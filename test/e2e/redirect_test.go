package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
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

// TestPullThroughRedirect pulls with crane, skopeo and regctl, with token
// auth on, in both download modes: through the registry's dedicated data
// endpoint, and through the storage service's own read-only SAS URLs
// (Azure Blob Storage, as Azurite). The content is verified, and the
// server's log shows that the blobs went out through the redirect.
func TestPullThroughRedirect(t *testing.T) {
	t.Parallel()
	crane, skopeo, regctl := tool(t, "crane"), tool(t, "skopeo"), tool(t, "regctl")
	modes := []struct {
		name string
		args func(t *testing.T) []string
		data bool
	}{
		{"data endpoint", func(*testing.T) []string { return nil }, true},
		{"shared storage", func(t *testing.T) []string {
			url, key := startAzurite(t, "registry")
			// Clients reach the account by its production-style name, as
			// they would reach <account>.blob.core.windows.net.
			public := "http://registry.blob.storage.test:" + url[strings.LastIndex(url, ":")+1:strings.LastIndex(url, "/")]
			return []string{"--blob-store", "azblob", "--azblob-url", url, "--azblob-account", "registry", "--azblob-key", key,
				"--azblob-public-url", public}
		}, false},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			e := newAuthEnv(t, m.args(t)...)
			cfg := t.TempDir()
			if m.data {
				e.berth(cfg, "registry", "update", "-n", "default", "--data-endpoint-enabled", "true").run(t)
			}
			e.berth(cfg, "registry", "login", "-n", "default").run(t)
			host := e.s.localhost()
			img := ociImage(t, 3, 128<<10)
			want := digestOf(t, img).String()
			src := writeLayout(t, "v1", img)
			e.client(regctl, cfg, "registry", "set", "--tls", "disabled", host).run(t)
			e.client(regctl, cfg, "image", "copy", "ocidir://"+src+":v1", host+"/app:v1").run(t)

			// crane: pull to a layout; the layers came through the redirect.
			out := t.TempDir()
			e.client(crane, cfg, "pull", "--insecure", "--format", "oci", host+"/app:v1", out).run(t)
			if d := layoutEntry(t, out, ""); d.Digest.String() != want {
				t.Fatalf("crane pulled %s, want %s", d.Digest, want)
			}
			// skopeo: copy back out to a layout, digests preserved.
			skDst := t.TempDir()
			e.client(skopeo, cfg, "--insecure-policy", "copy", "--preserve-digests", "--authfile", filepath.Join(cfg, "config.json"),
				"--src-tls-verify=false", "docker://"+host+"/app:v1", "oci:"+skDst+":v1").run(t)
			if d := layoutEntry(t, skDst, "v1"); d.Digest.String() != want {
				t.Fatalf("skopeo pulled %s, want %s", d.Digest, want)
			}
			// regctl: every layer by digest, content checked.
			for _, l := range layerDigests(t, img) {
				b := e.client(regctl, cfg, "blob", "get", host+"/app", l.String()).run(t)
				if got := sha256Digest(b); got != l.String() {
					t.Fatalf("regctl blob get %s returned content of digest %s", l, got)
				}
			}

			logs := string(e.s.logs.Bytes())
			redirects := strings.Count(logs, `"status":307`)
			if redirects < 3 {
				t.Errorf("only %d blob GETs were redirected", redirects)
			}
			served := strings.Count(logs, `"msg":"blob served"`)
			if m.data && served < 3 {
				t.Errorf("the data endpoint served %d blobs", served)
			}
			if !m.data && served != 0 {
				t.Errorf("the data endpoint served %d blobs in shared-storage mode", served)
			}
			if m.data && !strings.Contains(logs, `"identity":"operator:operator@default"`) {
				t.Errorf("the audit log does not name the identity that obtained the URLs")
			}
		})
	}
}

// startAzurite starts Azurite's blob service on a free loopback port with
// one account and returns the account's service URL and key. It is stopped
// at cleanup. A missing Azurite skips the test, or fails it in CI.
func startAzurite(t *testing.T, account string) (url, key string) {
	t.Helper()
	bin := azuriteBin(t)
	raw := make([]byte, 64)
	rand.Read(raw)
	key = base64.StdEncoding.EncodeToString(raw)
	port := freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port), "--location", dir,
		"--disableTelemetry", "--skipApiVersionCheck", "--loose")
	cmd.Env = append(os.Environ(), "AZURITE_ACCOUNTS="+account+":"+key)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Azurite: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	url = fmt.Sprintf("http://127.0.0.1:%d/%s", port, account)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url + "?comp=list"); err == nil {
			resp.Body.Close()
			return url, key
		}
	}
	t.Fatalf("Azurite did not start:\n%s", clip(logs.Bytes()))
	return "", ""
}

// azuriteBin finds azurite-blob on PATH or where scripts/test.sh installs it.
func azuriteBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("azurite-blob"); err == nil {
		return p
	}
	if wd, err := os.Getwd(); err == nil {
		p := filepath.Join(wd, "..", "..", ".cache", "azurite", "node_modules", ".bin", "azurite-blob")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "azurite-blob not found: run scripts/test.sh, which installs it"
	if inCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
