package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

const (
	tagsSmallRepo = "tags/small"
	tagsLargeRepo = "tags/large"
)

func tagTargets(cfg *config) []string {
	if cfg.tagsDistribution {
		return registries(cfg)
	}
	return []string{targetBerth}
}

// tagSet is what prepareTags seeded in one target.
type tagSet struct {
	small, large []int // indices of the tags that exist
}

func tagName(i int) string { return fmt.Sprintf("tag-%07d", i) }

// prepareTags pushes one image and tags its manifest a thousand times in one
// repository and many times in another, over HTTP with many workers. Seeding
// the large set stops at -tags-seed-timeout; the tags created until then are
// used and reported.
func prepareTags(ctx context.Context, b *bench, t *target) ([]metric, error) {
	img := smallImage(2, 0)
	if !b.cfg.tagsSeed {
		return reuseTags(ctx, b, t, len(img.manifest))
	}
	for _, repo := range []string{tagsSmallRepo, tagsLargeRepo} {
		if err := t.c.push(ctx, repo, "base", img); err != nil {
			return nil, err
		}
	}
	small, _, err := seedTags(ctx, b, t, tagsSmallRepo, b.cfg.tagsSmall, img.manifest, 0)
	if err != nil {
		return nil, err
	}
	large, el, err := seedTags(ctx, b, t, tagsLargeRepo, b.cfg.tags, img.manifest, b.cfg.tagsSeedTimeout)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.tags[t.name] = &tagSet{small: small, large: large}
	b.mu.Unlock()
	return []metric{
		{name: "small tag set", unit: "tags", value: float64(len(small))},
		{name: "large tag set", unit: "tags", value: float64(len(large))},
		{name: "seed large set", unit: "s", value: el.Seconds()},
		{name: "seed rate", unit: "tags/s", value: float64(len(large)) / el.Seconds()},
	}, nil
}

// seedTags PUTs manifest under n tags. With a timeout it stops there and
// returns the tags made so far; without one any failure is an error.
func seedTags(ctx context.Context, b *bench, t *target, repo string, n int, manifest []byte,
	timeout time.Duration) ([]int, time.Duration, error) {
	sctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	done := make([]bool, n)
	start := time.Now()
	lastLog := start
	var mu sync.Mutex
	count := 0
	_, err := countLoop(sctx, b.cfg.tagsWorkers, n, func(ctx context.Context, _, i int) error {
		if err := t.c.putManifest(ctx, repo, tagName(i), manifest); err != nil {
			return err
		}
		done[i] = true
		mu.Lock()
		count++
		if time.Since(lastLog) > 30*time.Second {
			lastLog = time.Now()
			b.logf("  %s: %d of %d tags in %s", t.name, count, n, time.Since(start).Round(time.Second))
		}
		mu.Unlock()
		return nil
	})
	el := time.Since(start)
	if err != nil && !(timeout > 0 && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded)) {
		return nil, el, fmt.Errorf("seed %s: %w", repo, err)
	}
	var made []int
	for i, ok := range done {
		if ok {
			made = append(made, i)
		}
	}
	if len(made) == 0 {
		return nil, el, fmt.Errorf("seed %s: no tag made", repo)
	}
	if len(made) < n {
		b.logf("  %s: seeding stopped at the time limit with %d of %d tags", t.name, len(made), n)
	}
	return made, el, nil
}

// reuseTags checks that the first and last tag of both sets exist, as an
// earlier run with the same work directory left them, and uses them all.
func reuseTags(ctx context.Context, b *bench, t *target, size int) ([]metric, error) {
	set := &tagSet{}
	for _, s := range []struct {
		repo string
		n    int
		dst  *[]int
	}{{tagsSmallRepo, b.cfg.tagsSmall, &set.small}, {tagsLargeRepo, b.cfg.tags, &set.large}} {
		for _, i := range []int{0, s.n - 1} {
			if err := t.c.getManifest(ctx, s.repo, tagName(i), size); err != nil {
				return nil, fmt.Errorf("-tags-seed=false but %s has no tag %s: %w", s.repo, tagName(i), err)
			}
		}
		*s.dst = make([]int, s.n)
		for i := range *s.dst {
			(*s.dst)[i] = i
		}
	}
	b.mu.Lock()
	b.tags[t.name] = set
	b.mu.Unlock()
	return []metric{
		{name: "small tag set", unit: "tags", value: float64(len(set.small))},
		{name: "large tag set", unit: "tags", value: float64(len(set.large))},
	}, nil
}

func runTags(ctx context.Context, b *bench, t *target, round int) ([]metric, error) {
	b.mu.Lock()
	set := b.tags[t.name]
	b.mu.Unlock()
	size := len(smallImage(2, 0).manifest)
	var ms []metric
	rc, err := t.c.rater(b.cfg.client, b.cfg.concurrency)
	if err != nil {
		return nil, err
	}
	defer rc.close()
	sp := startSpan(t)
	for _, s := range []struct {
		label string
		repo  string
		tags  []int
	}{{"1k tags", tagsSmallRepo, set.small}, {"many tags", tagsLargeRepo, set.large}} {
		rngs := make([]*rand.Rand, b.cfg.concurrency)
		for w := range rngs {
			rngs[w] = rand.New(rand.NewPCG(uint64(round), uint64(w)))
		}
		st, err := closedLoop(ctx, b.cfg.concurrency, b.cfg.duration, func(ctx context.Context, w, _ int) error {
			return rc.getManifest(ctx, w, s.repo, tagName(s.tags[rngs[w].IntN(len(s.tags))]), size)
		})
		if err != nil {
			return nil, err
		}
		ms = append(ms,
			metric{name: "rps " + s.label, unit: "req/s", value: st.rate()},
			metric{name: "p99 " + s.label, unit: "ms", value: st.percentile(99)})
	}
	_, cpu := sp.end()
	ms = append(ms, metric{name: "many/1k rps ratio", unit: "×", value: ms[2].value / ms[0].value})
	return append(ms, cpu...), nil
}
