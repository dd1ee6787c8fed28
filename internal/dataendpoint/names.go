package dataendpoint

import (
	_ "crypto/sha256" // makes digest.SHA256 available to Digest.Validate
	_ "crypto/sha512" // makes digest.SHA512 available to Digest.Validate
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"
)

// Host returns the host name of the data endpoint of registry in region:
// "<registry>.<region>.data.<domain>".
func Host(registry, region, domain string) string {
	return registry + "." + region + ".data." + domain
}

// validRegistry reports whether s is a registry name: 1 to 50 lowercase
// letters and digits.
func validRegistry(s string) bool {
	if len(s) == 0 || len(s) > 50 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// validLabel reports whether s is a lowercase DNS label: 1 to 63 letters,
// digits and inner hyphens. Region names are labels.
func validLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// normalizeDomain lowercases a domain and drops its surrounding dots. It
// returns false when the result is not a host name of at least one label:
// an IP literal, or a name whose last label is numeric, is refused so that
// a data endpoint is always addressed by name.
func normalizeDomain(s string) (string, bool) {
	d := strings.Trim(strings.ToLower(s), ".")
	if d == "" || len(d) > 200 {
		return "", false
	}
	if _, err := netip.ParseAddr(strings.Trim(d, "[]")); err == nil {
		return "", false
	}
	labels := strings.Split(d, ".")
	for _, l := range labels {
		if !validLabel(l) {
			return "", false
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", false
	}
	return d, true
}

func isAlnum(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// validDigest reports whether s is a sha256 or sha512 digest in canonical
// form (lowercase hex of the right length).
func validDigest(s string) bool {
	d := digest.Digest(s)
	if d.Validate() != nil {
		return false
	}
	a := d.Algorithm()
	return a == digest.SHA256 || a == digest.SHA512
}

// validIdentity reports whether s can name the principal of a token: 1 to
// 256 bytes of printable UTF-8.
func validIdentity(s string) bool {
	if s == "" || len(s) > 256 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
