package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOperatorToken(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	tok, err := operatorToken(dir, "", &stderr)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, operatorTokenFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("operator-token: %v, mode %v", err, fi.Mode().Perm())
	}
	if !strings.Contains(stderr.String(), tok) {
		t.Errorf("the new credential is not announced once: %q", stderr.String())
	}
	stderr.Reset()
	again, err := operatorToken(dir, "", &stderr)
	if err != nil || again != tok || stderr.Len() != 0 {
		t.Fatalf("second start: %q, %v, printed %q", again, err, stderr.String())
	}
	if given, _ := operatorToken(dir, "given-secret", &stderr); given != "given-secret" {
		t.Fatalf("a given credential is not used: %q", given)
	}
	verify := operatorVerifier(tok)
	if !verify(tok) || verify(tok+"x") || verify("") {
		t.Fatal("verifier accepts the wrong credential or refuses the right one")
	}
}
