package oci

import (
	"sync"
	"testing"
)

func TestSessionLocksSerializeOneSession(t *testing.T) {
	var s sessionLocks
	var mu sync.Mutex
	inside, maxInside := 0, 0
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := s.lock("reg", "u1")
			mu.Lock()
			inside++
			maxInside = max(maxInside, inside)
			mu.Unlock()
			mu.Lock()
			inside--
			mu.Unlock()
			unlock()
		}()
	}
	wg.Wait()
	if maxInside != 1 {
		t.Fatalf("%d requests held one session at once", maxInside)
	}
	if len(s.locks) != 0 {
		t.Fatalf("%d locks left behind", len(s.locks))
	}
	// Different sessions do not wait for each other.
	unlockA := s.lock("reg", "a")
	unlockB := s.lock("reg", "b")
	unlockB()
	unlockA()
}
