package metadata

import (
	"hash/maphash"
	"unique"

	"github.com/opencontainers/go-digest"
)

// tagTable holds the tags of one repository for the tag index, in about 70
// bytes each for names of a dozen bytes, the map's slack included
// (BenchmarkTagIndexLoad): a map from a hash of the name to a slot, the
// slots, and the names one after another in one byte slice. A slot answers only for its own
// name, compared byte by byte, so a second name with the same hash is simply
// not held (the store asks the database) and never gets another's digest.
type tagTable struct {
	seed    maphash.Seed
	bySum   map[uint64]int32
	slots   []tagSlot
	free    []int32 // slots of deleted tags, to reuse
	names   []byte
	garbage int // bytes of names no longer used
}

// tagSlot is one tag of a tagTable.
type tagSlot struct {
	d        unique.Handle[digest.Digest] // digests repeat across tags: held once
	off      uint32                       // of the name in names
	len      uint8                        // of the name; tags are at most 128 bytes
	readable bool
}

// maxTableNames bounds the bytes of names in one table, which slot offsets
// must be able to address.
const maxTableNames = 1<<32 - 1

func newTagTable() *tagTable {
	return &tagTable{seed: maphash.MakeSeed(), bySum: make(map[uint64]int32)}
}

func (t *tagTable) len() int { return len(t.bySum) }

func (t *tagTable) name(s *tagSlot) string {
	return string(t.names[s.off : s.off+uint32(s.len)])
}

// find returns the slot of name, or -1.
func (t *tagTable) find(name string) int32 {
	i, ok := t.bySum[maphash.String(t.seed, name)]
	if !ok {
		return -1
	}
	s := &t.slots[i]
	if int(s.len) != len(name) || string(t.names[s.off:s.off+uint32(s.len)]) != name {
		return -1
	}
	return i
}

// get returns the digest of name and whether the tag is readable.
func (t *tagTable) get(name string) (d digest.Digest, readable, ok bool) {
	i := t.find(name)
	if i < 0 {
		return "", false, false
	}
	s := &t.slots[i]
	return s.d.Value(), s.readable, true
}

// set holds name with digest d. It reports whether the table holds one tag
// more; it holds nothing new when name is longer than a slot can say, or
// shares its hash with a name already held.
func (t *tagTable) set(name string, d digest.Digest, readable bool) (added bool) {
	sum := maphash.String(t.seed, name)
	if i, ok := t.bySum[sum]; ok {
		s := &t.slots[i]
		if t.name(s) == name {
			s.d, s.readable = unique.Make(d), readable
		}
		return false
	}
	if len(name) > 255 || len(t.names)+len(name) > maxTableNames {
		return false
	}
	s := tagSlot{d: unique.Make(d), off: uint32(len(t.names)), len: uint8(len(name)), readable: readable}
	t.names = append(t.names, name...)
	var i int32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
		t.slots[i] = s
	} else {
		i = int32(len(t.slots))
		t.slots = append(t.slots, s)
	}
	t.bySum[sum] = i
	return true
}

// del drops name and reports whether the table held it.
func (t *tagTable) del(name string) bool {
	i := t.find(name)
	if i < 0 {
		return false
	}
	s := &t.slots[i]
	t.garbage += int(s.len)
	delete(t.bySum, maphash.String(t.seed, name))
	*s = tagSlot{}
	t.free = append(t.free, i)
	if t.garbage > 64<<10 && t.garbage > len(t.names)/2 {
		t.compact()
	}
	return true
}

// compact copies the names still used into a new slice.
func (t *tagTable) compact() {
	names := make([]byte, 0, len(t.names)-t.garbage)
	for _, i := range t.bySum {
		s := &t.slots[i]
		off := len(names)
		names = append(names, t.names[s.off:s.off+uint32(s.len)]...)
		s.off = uint32(off)
	}
	t.names, t.garbage = names, 0
}

// each calls fn for every tag held.
func (t *tagTable) each(fn func(name string, d digest.Digest, readable bool)) {
	for _, i := range t.bySum {
		s := &t.slots[i]
		fn(t.name(s), s.d.Value(), s.readable)
	}
}
