package oci

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// An upload session that holds no bytes yet has no record in the metadata
// store: POST only hands out an id, and the first chunk records the
// session. Such an id says when it was handed out and for which registry
// and repository, with a check value that makes a made-up id unknown (404
// BLOB_UPLOAD_UNKNOWN, as the spec asks). The check value is not a secret:
// an id is no credential (every request on it is authorized as a push to
// its repository), and a forged one only opens an empty session.

// maxSessionAge is how long an id handed out by POST stays usable before
// its session took any bytes. The metadata store keeps the record of a
// closed session a little longer (8 days), so that a closed id stays
// closed.
const maxSessionAge = 7 * 24 * time.Hour

// sessionIDLen is the length of an id from newSessionID: 12 random bytes,
// 8 bytes of time and 6 bytes of check value, in hex.
const sessionIDLen = 2 * (12 + 8 + 6)

// newSessionID returns a new upload id for repository repo of registry,
// handed out at now.
func newSessionID(registry, repo string, now time.Time) string {
	var b [26]byte
	rand.Read(b[:12])
	binary.BigEndian.PutUint64(b[12:20], uint64(now.Unix()))
	sum := sessionCheck(registry, repo, b[:20])
	copy(b[20:], sum[:6])
	return hex.EncodeToString(b[:])
}

// freshSession reports when id, an id without record, was handed out for
// repository repo of registry; false when newSessionID did not make it for
// them or it is older than maxSessionAge at now.
func freshSession(id, registry, repo string, now time.Time) (time.Time, bool) {
	if len(id) != sessionIDLen {
		return time.Time{}, false
	}
	var b [26]byte
	if _, err := hex.Decode(b[:], []byte(id)); err != nil {
		return time.Time{}, false
	}
	sum := sessionCheck(registry, repo, b[:20])
	if [6]byte(sum[:6]) != [6]byte(b[20:]) {
		return time.Time{}, false
	}
	created := time.Unix(int64(binary.BigEndian.Uint64(b[12:20])), 0).UTC()
	if now.Sub(created) > maxSessionAge || created.After(now.Add(time.Minute)) {
		return time.Time{}, false
	}
	return created, true
}

func sessionCheck(registry, repo string, head []byte) [sha256.Size]byte {
	h := make([]byte, 0, 64+len(registry)+len(repo))
	h = append(h, "berth upload\x00"...)
	h = append(h, registry...)
	h = append(h, 0)
	h = append(h, repo...)
	h = append(h, 0)
	h = append(h, head...)
	return sha256.Sum256(h)
}
