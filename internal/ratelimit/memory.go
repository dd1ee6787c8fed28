package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"

	"berth/internal/berth"
)

// Buckets keeps token buckets by name. Take removes one token from bucket
// name, which holds at most burst tokens and refills at rate tokens per
// second; it reports whether there was one and, if not, how long until
// there is. now is the caller's clock; an implementation shared by several
// nodes may use its own instead. Errors are *berth.Error.
type Buckets interface {
	Take(ctx context.Context, name string, rate, burst float64, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

// Memory is the Buckets of one process. Each bucket is a single time, its
// theoretical arrival time (the generic cell rate algorithm): a bucket is
// full when that time is not in the future, so full buckets are simply
// forgotten. Memory holds at most a bounded number of buckets; it is safe
// for concurrent use.
type Memory struct {
	max int

	mu        sync.Mutex
	tat       map[string]time.Time
	lastSweep time.Time
}

// DefaultMaxBuckets is the bound of NewMemory(0).
const DefaultMaxBuckets = 100_000

// sweepEvery is how often Memory drops full buckets.
const sweepEvery = time.Minute

// NewMemory returns an empty Memory holding at most maxBuckets buckets
// (DefaultMaxBuckets if maxBuckets <= 0). Past that bound it drops full
// buckets first and then arbitrary ones, which forgets their debt: memory
// wins over precision when more distinct callers are active than it holds.
func NewMemory(maxBuckets int) *Memory {
	if maxBuckets <= 0 {
		maxBuckets = DefaultMaxBuckets
	}
	return &Memory{max: maxBuckets, tat: map[string]time.Time{}}
}

// Take implements Buckets. With interval T = 1/rate and tolerance
// burst×T, a take at now is allowed when max(tat, now)+T-now <= burst×T,
// and then advances tat by T; otherwise retryAfter is exactly the excess.
// It returns KindInvalid when rate is not positive or burst is below 1.
func (m *Memory) Take(_ context.Context, name string, rate, burst float64, now time.Time) (bool, time.Duration, error) {
	interval, tolerance, err := gcra(rate, burst)
	if err != nil {
		return false, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, ok := m.tat[name]
	if !ok || tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if ahead := next.Sub(now); ahead > tolerance {
		return false, ahead - tolerance, nil
	}
	m.tat[name] = next
	if len(m.tat) > m.max || now.Sub(m.lastSweep) >= sweepEvery {
		m.sweep(now)
	}
	return true, 0, nil
}

// gcra turns a rate and a burst into the emission interval and the
// tolerance, rounded to the nanosecond so that rates given per minute
// (1000/60 per second) give exact intervals.
func gcra(rate, burst float64) (interval, tolerance time.Duration, err error) {
	if !(rate > 0) || !(burst >= 1) || math.IsInf(rate, 0) || math.IsInf(burst, 0) {
		return 0, 0, berth.E("ratelimit.Take", berth.KindInvalid, "rate %v per second with burst %v is not a usable limit", rate, burst)
	}
	interval = max(time.Duration(math.Round(float64(time.Second)/rate)), 1)
	tolerance = time.Duration(math.Round(burst * float64(interval)))
	return interval, tolerance, nil
}

// sweep drops full buckets, then, while over the bound, arbitrary ones
// down to nine tenths of it. m.mu must be held.
func (m *Memory) sweep(now time.Time) {
	m.lastSweep = now
	for name, tat := range m.tat {
		if !tat.After(now) {
			delete(m.tat, name)
		}
	}
	if len(m.tat) <= m.max {
		return
	}
	keep := m.max * 9 / 10
	for name := range m.tat {
		if len(m.tat) <= keep {
			break
		}
		delete(m.tat, name)
	}
}

// Len returns the number of buckets held (for metrics and tests).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tat)
}
