package main

import (
	"runtime"
)

// nodeProcs returns how many Ps (goroutines running Go code at once) a node
// asks of the Go scheduler, given the runtime's default, which is the number
// of cores the process may use: two more than that, on two cores or more.
//
// A node spends much of a push waiting in file syncs (blob, directory,
// SQLite log), and a goroutine in a system call keeps its P until the
// runtime takes it back; on two cores, two syncs at once left the requests
// that were ready to run without a P. With two spare Ps, small-image pushes
// go about 10 % faster there, reads are unchanged and peak memory rises by
// less than a MiB. On a single core the spare Ps only compete for it
// (manifest GETs lost a fifth), so the default stays.
func nodeProcs(def int) int {
	if def < 2 {
		return def
	}
	return def + 2
}

// defaultProcs is the runtime's number of Ps at start, before any node
// changed it.
var defaultProcs = runtime.GOMAXPROCS(0)

// setNodeProcs applies nodeProcs to the runtime's default unless the
// environment sets GOMAXPROCS, which always wins, and returns the number of
// Ps the node runs with. Calling it again gives the same number. Once it
// has changed the number, the runtime no longer follows later changes of
// the process's CPU limit; a node started under a new limit applies it.
func setNodeProcs(getenv func(string) string) int {
	if getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0)
	}
	n := nodeProcs(defaultProcs)
	runtime.GOMAXPROCS(n)
	return n
}
