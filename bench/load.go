package main

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadStats is what one load run measured.
type loadStats struct {
	ops     int
	elapsed time.Duration
	lat     []time.Duration // sorted
}

func (s loadStats) rate() float64 { return float64(s.ops) / s.elapsed.Seconds() }

// percentile returns the nearest-rank p-th percentile latency in milliseconds.
func (s loadStats) percentile(p float64) float64 {
	if len(s.lat) == 0 {
		return 0
	}
	i := int(p/100*float64(len(s.lat))+0.5) - 1
	i = min(max(i, 0), len(s.lat)-1)
	return float64(s.lat[i]) / float64(time.Millisecond)
}

// closedLoop runs op from workers goroutines, each calling it again as soon as
// it returns, until dur has passed. op gets the worker number and the
// worker's iteration count. The first error stops every worker.
func closedLoop(ctx context.Context, workers int, dur time.Duration,
	op func(ctx context.Context, w, j int) error) (loadStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deadline := time.Now().Add(dur)
	return drive(ctx, cancel, workers, func(ctx context.Context, w, j int) (bool, error) {
		if time.Now().After(deadline) {
			return false, nil
		}
		return true, op(ctx, w, j)
	})
}

// countLoop runs op n times in total from workers goroutines; op gets the
// worker number and the index 0..n-1 of its item. The first error stops
// every worker.
func countLoop(ctx context.Context, workers, n int, op func(ctx context.Context, w, i int) error) (loadStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	return drive(ctx, cancel, workers, func(ctx context.Context, w, _ int) (bool, error) {
		i := int(next.Add(1) - 1)
		if i >= n {
			return false, nil
		}
		return true, op(ctx, w, i)
	})
}

// drive runs step from workers goroutines until it returns false or an
// error, timing every step that ran.
func drive(ctx context.Context, cancel context.CancelFunc, workers int,
	step func(ctx context.Context, w, j int) (bool, error)) (loadStats, error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		lats     = make([][]time.Duration, workers)
	)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			for j := 0; ctx.Err() == nil; j++ {
				t0 := time.Now()
				more, err := step(ctx, w, j)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					break
				}
				if !more {
					break
				}
				lat = append(lat, time.Since(t0))
			}
			lats[w] = lat
		}()
	}
	wg.Wait()
	st := loadStats{elapsed: time.Since(start), lat: slices.Concat(lats...)}
	st.ops = len(st.lat)
	slices.Sort(st.lat)
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return st, firstErr
}
