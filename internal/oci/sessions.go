package oci

import "sync"

// sessionLocks hands out one mutex per upload session in use. A chunk is
// written to the session's bytes before the session's offset advances, so
// two requests writing the same session at once could interleave bytes that
// the winner's digest never covered; holding the session's lock from the
// write to the commit prevents that on a node.
type sessionLocks struct {
	mu    sync.Mutex
	locks map[string]*sessionLock
}

type sessionLock struct {
	sync.Mutex
	users int
}

// lock locks session id of registry and returns its unlock function.
func (s *sessionLocks) lock(registry, id string) (unlock func()) {
	key := registry + "/" + id
	s.mu.Lock()
	if s.locks == nil {
		s.locks = map[string]*sessionLock{}
	}
	l := s.locks[key]
	if l == nil {
		l = &sessionLock{}
		s.locks[key] = l
	}
	l.users++
	s.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		s.mu.Lock()
		if l.users--; l.users == 0 {
			delete(s.locks, key)
		}
		s.mu.Unlock()
	}
}
