package main

import (
	"context"
	"time"
)

// foreignCPU returns the CPU, in cores, that processes other than this tool
// and its servers used over window.
func foreignCPU(ctx context.Context, targets []*target, window time.Duration) (float64, error) {
	ours := func() time.Duration {
		d := selfCPU()
		for _, t := range targets {
			if t.shared {
				continue
			}
			if c, err := processCPU(t.srv.pid()); err == nil {
				d += c
			}
		}
		return d
	}
	busy0, _, err := machineCPU()
	if err != nil {
		return 0, err
	}
	ours0, t0 := ours(), time.Now()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(window):
	}
	busy1, _, err := machineCPU()
	if err != nil {
		return 0, err
	}
	other := (busy1 - busy0) - (ours() - ours0)
	return max(other.Seconds()/time.Since(t0).Seconds(), 0), nil
}

// waitQuiet waits, up to maxWait, until other processes use less than limit
// cores, so that a run measures the servers rather than the neighbours. It
// returns the foreign load last seen.
func (b *bench) waitQuiet(ctx context.Context, targets []*target) float64 {
	if b.cfg.quietMax <= 0 {
		return 0
	}
	deadline := time.Now().Add(b.cfg.quietMax)
	for {
		other, err := foreignCPU(ctx, targets, 500*time.Millisecond)
		if err != nil || other < b.cfg.quietLimit {
			return other
		}
		if time.Now().After(deadline) {
			b.logf("  other processes still use %.2f cores after %s; measuring anyway", other, b.cfg.quietMax)
			return other
		}
	}
}
