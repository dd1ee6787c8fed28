package dataendpoint

import (
	"errors"
	"strconv"
	"strings"
)

// errRangeUnsatisfiable means a Range header names no byte of the blob.
var errRangeUnsatisfiable = errors.New("range not satisfiable")

// parseRange reads a single-range Range header ("bytes=a-b", "bytes=a-",
// "bytes=-n") against a blob of size bytes and returns the offset and length
// to serve. partial is false when the header is to be ignored, as RFC 9110
// allows: absent, another unit, several ranges or bad syntax; the whole blob
// is served then. A well-formed range that names no byte of the blob returns
// errRangeUnsatisfiable.
func parseRange(h string, size int64) (offset, length int64, partial bool, err error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	a, b, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, false, nil
	}
	if a == "" { // the last n bytes
		n, err := parseUint(b)
		if err != nil {
			return 0, size, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, errRangeUnsatisfiable
		}
		n = min(n, size)
		return size - n, n, true, nil
	}
	first, err := parseUint(a)
	if err != nil {
		return 0, size, false, nil
	}
	last := size - 1
	if b != "" {
		if last, err = parseUint(b); err != nil || last < first {
			return 0, size, false, nil
		}
		last = min(last, size-1)
	}
	if first >= size {
		return 0, 0, false, errRangeUnsatisfiable
	}
	return first, last - first + 1, true, nil
}

// parseUint parses a non-negative decimal without sign.
func parseUint(s string) (int64, error) {
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(s, 10, 64)
}
