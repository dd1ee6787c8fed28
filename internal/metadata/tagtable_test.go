package metadata

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestTagTable sets, moves and deletes enough tags that the names are
// compacted, and checks every answer against a plain map.
func TestTagTable(t *testing.T) {
	tt := newTagTable()
	want := map[string]digest.Digest{}
	d := func(i int) digest.Digest { return digest.FromString(fmt.Sprint(i % 7)) }
	name := func(i int) string { return fmt.Sprintf("release-%06d", i) }
	for i := range 20_000 {
		if !tt.set(name(i), d(i), i%3 != 0) {
			t.Fatalf("set %s: not added", name(i))
		}
		want[name(i)] = d(i)
	}
	for i := range 20_000 {
		switch {
		case i%10 == 0: // moved
			if tt.set(name(i), d(i+1), true) {
				t.Fatalf("moving %s added a tag", name(i))
			}
			want[name(i)] = d(i + 1)
		case i%10 < 8:
			if !tt.del(name(i)) {
				t.Fatalf("del %s: not held", name(i))
			}
			delete(want, name(i))
		}
	}
	if len(tt.names) >= 20_000*len(name(0)) {
		t.Fatalf("names never compacted: %d bytes, %d unused", len(tt.names), tt.garbage)
	}
	if tt.len() != len(want) {
		t.Fatalf("table holds %d tags, want %d", tt.len(), len(want))
	}
	for i := range 20_000 {
		got, readable, ok := tt.get(name(i))
		w, held := want[name(i)]
		if ok != held || got != w {
			t.Fatalf("get %s = %s, %v; want %s, %v", name(i), got, ok, w, held)
		}
		if held && i%10 == 0 && !readable {
			t.Fatalf("get %s: not readable after a move that made it readable", name(i))
		}
	}
	// Deleted slots are reused.
	before := len(tt.slots)
	for i := range 100 {
		tt.set(fmt.Sprint("new-", i), d(i), true)
	}
	if len(tt.slots) != before {
		t.Fatalf("slots grew from %d to %d with free slots to reuse", before, len(tt.slots))
	}
	if tt.del("never-set") || tt.set(string(make([]byte, 256)), d(0), true) {
		t.Fatal("a name never set was deleted, or a 256-byte name was held")
	}
}

// TestTagTableSharedHash makes two names share a hash, as a real collision
// would: the second is never held, never answered with the first's digest,
// and never removes it.
func TestTagTableSharedHash(t *testing.T) {
	tt := newTagTable()
	a, b := digest.FromString("a"), digest.FromString("b")
	tt.set("first", a, true)
	tt.bySum[maphash.String(tt.seed, "second")] = tt.bySum[maphash.String(tt.seed, "first")]
	delete(tt.bySum, maphash.String(tt.seed, "first"))
	// Now "second"'s hash leads to the slot of "first"; "first" is not found
	// by its own hash any more, which does not matter here.
	if _, _, ok := tt.get("second"); ok {
		t.Fatal("a name was answered from the slot of another with the same hash")
	}
	if tt.set("second", b, true) {
		t.Fatal("a name took the hash of another")
	}
	if tt.del("second") {
		t.Fatal("deleting a name removed another with the same hash")
	}
	if s := tt.slots[0]; s.d.Value() != a || tt.name(&s) != "first" {
		t.Fatalf("slot of first holds %s %q", s.d.Value(), tt.name(&s))
	}
}

// BenchmarkTagTableGet looks up random tags of a table of 1,000 and of
// 1,000,000 tags, so that the two can be compared: a lookup is a hash, a
// map access and a comparison of the name, whatever the number of tags, but
// a large table's memory does not stay in the CPU's caches.
func BenchmarkTagTableGet(b *testing.B) {
	d := digest.FromString("manifest")
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			t := newTagTable()
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("tag-%07d", i)
				t.set(names[i], d, true)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				if got, _, ok := t.get(names[rng.IntN(n)]); !ok || got != d {
					b.Fatal("tag not found")
				}
			}
		})
	}
}
