package dataendpoint

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// Class is the kind of access a token grants. Data endpoints serve reads
// only, so ClassRead is the only class Mint issues and the handler accepts.
type Class string

// ClassRead allows GET and HEAD of one blob.
const ClassRead Class = "read"

// Claims are what a data-endpoint token binds: the blob it opens, where it
// may be used, for whom it was issued and until when.
type Claims struct {
	Registry   string        // the registry whose data endpoint may serve the blob
	Region     string        // the region whose data endpoint may serve the blob
	Repository string        // the repository the login server authorized
	Digest     digest.Digest // the blob
	Identity   string        // the principal that was authorized, as berth.Principal.String names it
	Class      Class         // the access granted; "" means ClassRead when minting
	ClientAddr netip.Addr    // the only client address that may use the token; zero: any
	TTL        time.Duration // Mint only: the token's lifetime; zero means SignerConfig.TTL
	IssuedAt   time.Time     // set by Mint, to the second
	Expires    time.Time     // set by Mint, to the second; the token is refused from then on
}

// tokenVersion is the first byte of every payload this package mints.
const tokenVersion = 1

// maxTokenLen bounds a token before any decoding.
const maxTokenLen = 2048

// macContext separates the MACs of data tokens from any other use of a key.
const macContext = "berth data-endpoint token\n"

var b64 = base64.RawURLEncoding.Strict()

// encodePayload returns the binary payload of a token signed by key kid:
//
//	version (1 byte)
//	kid, registry, region, repository, digest, identity, class, client address
//	    (each a uvarint length and that many bytes; "" for an unbound address)
//	issued-at, expires (each a varint of Unix seconds)
func encodePayload(kid string, c Claims) []byte {
	addr := ""
	if c.ClientAddr.IsValid() {
		addr = c.ClientAddr.String()
	}
	b := make([]byte, 0, 200)
	b = append(b, tokenVersion)
	for _, s := range []string{kid, c.Registry, c.Region, c.Repository, string(c.Digest), c.Identity, string(c.Class), addr} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, c.IssuedAt.Unix())
	b = binary.AppendVarint(b, c.Expires.Unix())
	return b
}

// mac returns the HMAC-SHA256 of payload under secret.
func mac(secret, payload []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(macContext))
	m.Write(payload)
	return m.Sum(nil)
}

// encodeToken joins a payload and its MAC into a token.
func encodeToken(payload, sum []byte) string {
	return b64.EncodeToString(payload) + "." + b64.EncodeToString(sum)
}

// rawToken is a token split into its parts; nothing in it is verified yet.
type rawToken struct {
	payload []byte
	sum     []byte
	kid     string
	claims  Claims
}

// Errors of decodeToken; each message is shown to the client.
var (
	errTokenEmpty    = errors.New("token is empty")
	errTokenLong     = errors.New("token is longer than any token this service mints")
	errTokenAlphabet = errors.New("token contains a character outside base64url and '.'")
	errTokenShape    = errors.New("token is not <payload>.<signature>")
	errTokenEncoding = errors.New("token is not valid base64url")
	errTokenMAC      = errors.New("token signature has the wrong length")
	errTokenPayload  = errors.New("token payload is malformed")
)

// versionError reports a payload of a version this package does not know.
type versionError struct{ v byte }

func (e versionError) Error() string {
	return "token version " + strconv.Itoa(int(e.v)) + " is not supported; this service mints version " + strconv.Itoa(tokenVersion)
}

// decodeToken splits and decodes a token without verifying it. Every byte of
// a token it accepts is significant: a token that decodes is the canonical
// encoding of its payload and MAC.
func decodeToken(tok string) (rawToken, error) {
	switch {
	case tok == "":
		return rawToken{}, errTokenEmpty
	case len(tok) > maxTokenLen:
		return rawToken{}, errTokenLong
	}
	dots := 0
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.':
			dots++
		default:
			return rawToken{}, errTokenAlphabet
		}
	}
	i := strings.IndexByte(tok, '.')
	if dots != 1 || i == 0 || i == len(tok)-1 {
		return rawToken{}, errTokenShape
	}
	payload, err := b64.DecodeString(tok[:i])
	if err != nil {
		return rawToken{}, errTokenEncoding
	}
	sum, err := b64.DecodeString(tok[i+1:])
	if err != nil {
		return rawToken{}, errTokenEncoding
	}
	if len(sum) != sha256.Size {
		return rawToken{}, errTokenMAC
	}
	kid, c, err := decodePayload(payload)
	if err != nil {
		return rawToken{}, err
	}
	return rawToken{payload: payload, sum: sum, kid: kid, claims: c}, nil
}

// decodePayload reads what encodePayload wrote. It rejects another version,
// short or overlong fields, and trailing bytes.
func decodePayload(b []byte) (kid string, c Claims, err error) {
	if len(b) == 0 {
		return "", Claims{}, errTokenPayload
	}
	if b[0] != tokenVersion {
		return "", Claims{}, versionError{b[0]}
	}
	b = b[1:]
	var fields [8]string
	for i := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", Claims{}, errTokenPayload
		}
		fields[i] = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	var times [2]int64
	for i := range times {
		v, k := binary.Varint(b)
		if k <= 0 {
			return "", Claims{}, errTokenPayload
		}
		times[i] = v
		b = b[k:]
	}
	if len(b) != 0 {
		return "", Claims{}, errTokenPayload
	}
	c = Claims{
		Registry:   fields[1],
		Region:     fields[2],
		Repository: fields[3],
		Digest:     digest.Digest(fields[4]),
		Identity:   fields[5],
		Class:      Class(fields[6]),
		IssuedAt:   time.Unix(times[0], 0).UTC(),
		Expires:    time.Unix(times[1], 0).UTC(),
	}
	if fields[7] != "" {
		a, err := netip.ParseAddr(fields[7])
		if err != nil {
			return "", Claims{}, errTokenPayload
		}
		c.ClientAddr = a
	}
	return fields[0], c, nil
}
