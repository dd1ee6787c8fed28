package berth

import (
	"regexp"
	"strings"
)

// MaxRepositoryName bounds the length of a repository name.
const MaxRepositoryName = 255

// ValidRepository reports whether s is a repository name as the OCI
// distribution spec defines it: path components of lowercase alphanumerics
// separated by one '.', one or two '_', or any number of '-'. No component
// is empty, "." or "..", so a valid name is also a safe path.
func ValidRepository(s string) bool {
	if len(s) == 0 || len(s) > MaxRepositoryName {
		return false
	}
	for comp := range strings.SplitSeq(s, "/") {
		if !validComponent(comp) {
			return false
		}
	}
	return true
}

func validComponent(c string) bool {
	if c == "" || !isAlnum(c[0]) || !isAlnum(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); i++ {
		if isAlnum(c[i]) {
			continue
		}
		j := i // a run of separators: '.', '_', '__' or '-'+
		for j < len(c) && !isAlnum(c[j]) {
			j++
		}
		switch sep := c[i:j]; {
		case sep == ".", sep == "_", sep == "__":
		case strings.Trim(sep, "-") == "":
		default:
			return false
		}
		i = j - 1
	}
	return true
}

func isAlnum(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

var (
	storedRegistryName = regexp.MustCompile(`^[a-z0-9]{1,50}$`)
	uploadIDPattern    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
)

// CheckRegistryName returns a KindInvalid error of op unless registry is a
// registry name as stores use it: 1 to 50 lowercase letters and digits.
func CheckRegistryName(op, registry string) error {
	if !storedRegistryName.MatchString(registry) {
		return E(op, KindInvalid, "invalid registry name %q: want 1 to 50 lowercase letters and digits", registry)
	}
	return nil
}

// CheckUploadID returns a KindInvalid error of op unless id is an upload
// session id: 1 to 128 letters, digits, '_' or '-' (safe in a path).
func CheckUploadID(op, id string) error {
	if !uploadIDPattern.MatchString(id) {
		return E(op, KindInvalid, "invalid upload id %q: want 1 to 128 letters, digits, '_' or '-'", id)
	}
	return nil
}
