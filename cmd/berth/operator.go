package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// operatorTokenFile is where `berth serve` keeps the operator credential.
const operatorTokenFile = "operator-token"

// operatorToken returns the operator credential: the one given (flag or
// BERTH_OPERATOR_TOKEN), else the one stored in the data directory, else a
// new one, stored with mode 0600 and announced once on stderr.
func operatorToken(dataDir, given string, stderr io.Writer) (string, error) {
	path := filepath.Join(dataDir, operatorTokenFile)
	if given != "" {
		return given, nil
	}
	b, err := os.ReadFile(path)
	if err == nil {
		if tok := strings.TrimSpace(string(b)); tok != "" {
			return tok, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("operator credential: %w", err)
	}
	var raw [32]byte
	rand.Read(raw[:])
	tok := "berthop_" + base64.RawURLEncoding.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("operator credential: %w", err)
	}
	fmt.Fprintf(stderr, "berth: generated the operator credential; it is in %s (mode 0600). Use it as BERTH_TOKEN:\n%s\n", path, tok)
	return tok, nil
}

// operatorVerifier returns a constant-time check of a presented credential.
func operatorVerifier(token string) func(string) bool {
	want := sha256.Sum256([]byte(token))
	return func(got string) bool {
		h := sha256.Sum256([]byte(got))
		return subtle.ConstantTimeCompare(h[:], want[:]) == 1
	}
}
