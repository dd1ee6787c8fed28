package main

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"
)

// golden is the increment of the splitmix64 sequence.
const golden = 0x9E3779B97F4A7C15

// mix is the splitmix64 finalizer: a fast bijective scrambler of one word.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}

// content describes a deterministic pseudo-random byte stream: word i (8
// bytes, little endian) is mix(seed + i*golden), or mix(tailSeed + i*golden)
// from byte tailFrom on. Any range can be produced without the bytes before it.
type content struct {
	seed     uint64
	tailSeed uint64
	tailFrom int64 // multiple of 8
	size     int64
}

func (c content) word(i int64) uint64 {
	s := c.seed
	if i*8 >= c.tailFrom {
		s = c.tailSeed
	}
	return mix(s + uint64(i)*golden)
}

// fill writes the bytes [off, off+len(p)) of c into p.
func (c content) fill(p []byte, off int64) {
	for len(p) > 0 && off%8 != 0 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], c.word(off/8))
		n := copy(p, w[off%8:])
		p, off = p[n:], off+int64(n)
	}
	i := off / 8
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, c.word(i))
		p, i = p[8:], i+1
	}
	if len(p) > 0 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], c.word(i))
		copy(p, w[:])
	}
}

// reader returns the bytes [off, end) of c as a stream.
func (c content) reader(off, end int64) *contentReader {
	return &contentReader{c: c, off: off, end: end}
}

// bytes returns the whole content; use it for small blobs only.
func (c content) bytes() []byte {
	b := make([]byte, c.size)
	c.fill(b, 0)
	return b
}

type contentReader struct {
	c        content
	off, end int64
}

func (r *contentReader) Read(p []byte) (int, error) {
	if r.off >= r.end {
		return 0, io.EOF
	}
	if rem := r.end - r.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	r.c.fill(p, r.off)
	r.off += int64(len(p))
	return len(p), nil
}

// bigBlobs produces variants of one big blob that share everything but their
// last tail bytes, so the SHA-256 of the shared prefix is computed once and
// each variant's digest costs only the tail.
type bigBlobs struct {
	size int64
	tail int64

	once   sync.Once
	prefix []byte // marshalled sha256 state after the prefix
	err    error

	mu      sync.Mutex
	digests map[int]string
}

func newBigBlobs(size int64) *bigBlobs {
	tail := int64(64 << 10)
	if size < 2*tail {
		tail = size &^ 7
	}
	return &bigBlobs{size: size, tail: tail, digests: map[int]string{}}
}

// variant returns the content of variant v; v >= 0.
func (b *bigBlobs) variant(v int) content {
	return content{
		seed:     0x6265727468,
		tailSeed: mix(uint64(v) + 1),
		tailFrom: (b.size - b.tail) &^ 7,
		size:     b.size,
	}
}

// digest returns the sha256 digest of variant v.
func (b *bigBlobs) digest(v int) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d, ok := b.digests[v]; ok {
		return d, nil
	}
	c := b.variant(v)
	b.once.Do(func() {
		h := sha256.New()
		buf := make([]byte, 1<<20)
		if _, err := io.CopyBuffer(h, c.reader(0, c.tailFrom), buf); err != nil {
			b.err = err
			return
		}
		b.prefix, b.err = h.(encoding.BinaryMarshaler).MarshalBinary()
	})
	if b.err != nil {
		return "", fmt.Errorf("hash prefix: %w", b.err)
	}
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(b.prefix); err != nil {
		return "", fmt.Errorf("restore hash state: %w", err)
	}
	if _, err := io.Copy(h, c.reader(c.tailFrom, c.size)); err != nil {
		return "", err
	}
	d := digestString(h)
	b.digests[v] = d
	return d, nil
}

func digestString(h hash.Hash) string {
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
