package oci

import (
	"errors"
	"strconv"
	"strings"
)

// parseContentRange parses the Content-Range of an upload chunk: "<start>-<end>"
// with both ends inclusive, as the distribution spec writes it. It also takes
// the RFC 9110 forms "bytes <start>-<end>/<total|*>" and "bytes=<start>-<end>"
// that some clients send.
func parseContentRange(s string) (start, end int64, err error) {
	s = strings.TrimSpace(s)
	if v, ok := strings.CutPrefix(s, "bytes"); ok {
		s = strings.TrimLeft(v, " =")
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, errors.New("Content-Range must be <start>-<end>")
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, errors.New("Content-Range must be <start>-<end> with 0 <= start <= end")
	}
	return start, end, nil
}

// errRangeUnsatisfiable means a Range header names no byte of the blob.
var errRangeUnsatisfiable = errors.New("range not satisfiable")

// parseRange parses a single-range Range header ("bytes=a-b", "bytes=a-",
// "bytes=-n") against a blob of size bytes and returns the offset and length
// to serve. ok is false when the header should be ignored (absent, not
// bytes, or several ranges): the whole blob is served. A syntactically valid
// range outside the blob returns errRangeUnsatisfiable.
func parseRange(h string, size int64) (offset, length int64, ok bool, err error) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, size, false, nil
	}
	if a == "" { // suffix: the last n bytes
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return 0, size, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, errRangeUnsatisfiable
		}
		n = min(n, size)
		return size - n, n, true, nil
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return 0, size, false, nil
	}
	last := size - 1
	if b != "" {
		last, err = strconv.ParseInt(b, 10, 64)
		if err != nil || last < first {
			return 0, size, false, nil
		}
		last = min(last, size-1)
	}
	if first >= size {
		return 0, 0, false, errRangeUnsatisfiable
	}
	return first, last - first + 1, true, nil
}
