package main

import (
	"runtime"
	"testing"
)

func TestNodeProcs(t *testing.T) {
	for _, c := range []struct{ def, want int }{
		{1, 1}, // one core: spare Ps would only compete for it
		{2, 4},
		{8, 10},
	} {
		if got := nodeProcs(c.def); got != c.want {
			t.Errorf("nodeProcs(%d) = %d, want %d", c.def, got, c.want)
		}
	}
}

func TestSetNodeProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	noEnv := func(string) string { return "" }
	want := nodeProcs(defaultProcs)
	for i := range 2 {
		if got := setNodeProcs(noEnv); got != want || runtime.GOMAXPROCS(0) != want {
			t.Fatalf("call %d: setNodeProcs = %d with GOMAXPROCS %d, want %d for both", i+1, got, runtime.GOMAXPROCS(0), want)
		}
	}

	// GOMAXPROCS in the environment wins: the runtime applied it at start,
	// and the node leaves the number as it finds it.
	runtime.GOMAXPROCS(3)
	env := func(k string) string {
		if k == "GOMAXPROCS" {
			return "3"
		}
		return ""
	}
	if got := setNodeProcs(env); got != 3 || runtime.GOMAXPROCS(0) != 3 {
		t.Fatalf("with GOMAXPROCS=3: setNodeProcs = %d with GOMAXPROCS %d, want 3 for both", got, runtime.GOMAXPROCS(0))
	}
}
