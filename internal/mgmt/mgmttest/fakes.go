package mgmttest

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"

	"berth/internal/berth"
)

// BuiltInScopeMaps returns two built-in scope maps like the auth package's,
// for handlers under test without it.
func BuiltInScopeMaps(registry string) []berth.ScopeMap {
	return []berth.ScopeMap{
		{Registry: registry, Name: "_repositories_admin", Description: "Can perform all operations on the registry",
			Actions: []string{"repositories/*/content/read", "repositories/*/content/write", "repositories/*/content/delete",
				"repositories/*/metadata/read", "repositories/*/metadata/write"}, BuiltIn: true},
		{Registry: registry, Name: "_repositories_pull", Description: "Can pull any repository of the registry",
			Actions: []string{"repositories/*/content/read"}, BuiltIn: true},
	}
}

// ValidateScopeMapAction accepts "repositories/<pattern>/<content|metadata>/<verb>"
// with a known verb and returns KindInvalid naming what is wrong otherwise.
func ValidateScopeMapAction(action string) error {
	const op = "mgmttest.ValidateScopeMapAction"
	rest, ok := strings.CutPrefix(action, "repositories/")
	if !ok {
		return berth.E(op, berth.KindInvalid, "scope map action %q does not start with \"repositories/\"", action)
	}
	for _, verb := range []string{"content/read", "content/write", "content/delete", "metadata/read", "metadata/write"} {
		if pattern, ok := strings.CutSuffix(rest, "/"+verb); ok && pattern != "" {
			return nil
		}
	}
	return berth.E(op, berth.KindInvalid, "scope map action %q does not end in content/read, content/write, "+
		"content/delete, metadata/read or metadata/write", action)
}

// Passwords generates random passwords and hashes them with SHA-256:
// enough for tests, not for storing real passwords.
type Passwords struct{}

// New returns a random password.
func (Passwords) New() (string, error) { return rand.Text(), nil }

// Hash returns the SHA-256 of p.
func (Passwords) Hash(p string) ([]byte, error) {
	if p == "" {
		return nil, fmt.Errorf("empty password")
	}
	h := sha256.Sum256([]byte(p))
	return h[:], nil
}
