package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// The redirect group measures what the dedicated data endpoint costs a
// pull: GET on the login server, the 307 to
// default.local.data.localhost:PORT, and the blob from there, against a
// GET of the same blob with data endpoints off. Both run on the berth
// without auth; each run turns the data endpoint of the registry "default"
// on or off through the management API first.
const groupRedirect = "redirect"

// pullRounds is how many rounds redirect-pull runs per round of -rounds:
// pulls vary far more from one to the next (see pullsPerRun) than a
// redirect can cost, so it takes many pairs of runs, direct and redirect
// next to each other, to see the difference.
const pullRounds = 8

func redirectTargets(*config) []string { return []string{targetDirect, targetRedirect} }

func redirectWorkloads() []*workload {
	return []*workload{
		{name: "redirect-pull", group: groupRedirect, targets: redirectTargets, repeat: pullRounds,
			prepare: func(ctx context.Context, b *bench, t *target) ([]metric, error) {
				if err := setDataEndpoint(ctx, t, false); err != nil {
					return nil, err
				}
				return preparePull(ctx, b, t)
			},
			run: func(ctx context.Context, b *bench, t *target, round int) ([]metric, error) {
				return viaDataEndpoint(ctx, t, func() ([]metric, error) { return runPull(ctx, b, t, round) })
			}},
		{name: "redirect-small-get", group: groupRedirect, targets: redirectTargets,
			prepare: prepareSmallBlobs, run: runSmallBlobs},
	}
}

// dataEndpointTargets returns the direct and the redirect target on the
// process of berth. Both speak to the login server localhost:PORT, and
// connect to berth's address whatever host a URL names, so that
// *.localhost resolves to it. The direct client refuses redirects; the
// other follows them and counts them.
func dataEndpointTargets(berth *target, conns int) []*target {
	addr := strings.TrimPrefix(berth.c.base, "http://")
	_, port, _ := strings.Cut(addr, ":")
	direct := newTarget(targetDirect, berth.srv, berth.dir, "http://localhost:"+port, addr, conns, nil)
	direct.c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	redirect := newTarget(targetRedirect, berth.srv, berth.dir, "http://localhost:"+port, addr, conns, nil)
	redirect.c.hc.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		redirect.redirects.Add(1)
		return nil
	}
	direct.shared, redirect.shared = true, true
	return []*target{direct, redirect}
}

// setDataEndpoint turns the data endpoint of the registry "default" on or
// off with PATCH /api/v1/registries/default and the operator credential.
func setDataEndpoint(ctx context.Context, t *target, on bool) error {
	op, err := os.ReadFile(filepath.Join(t.dir, "operator-token"))
	if err != nil {
		return err
	}
	u := t.c.base + "/api/v1/registries/default"
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, u, strings.NewReader(fmt.Sprintf(`{"dataEndpointEnabled":%t}`, on)))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(op)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	var reg struct {
		DataEndpointEnabled bool `json:"dataEndpointEnabled"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &reg) != nil || reg.DataEndpointEnabled != on {
		return fmt.Errorf("PATCH %s dataEndpointEnabled=%t: status %d: %s", u, on, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// viaDataEndpoint runs f with the data endpoint on for the redirect target
// and off for the direct one, and turns it off again afterwards, so that no
// other workload sees a redirect. It fails when the redirect target
// followed no redirect.
func viaDataEndpoint(ctx context.Context, t *target, f func() ([]metric, error)) ([]metric, error) {
	on := t.is(targetRedirect)
	if err := setDataEndpoint(ctx, t, on); err != nil {
		return nil, err
	}
	before := t.redirects.Load()
	ms, err := f()
	if !on {
		return ms, err
	}
	if err == nil && t.redirects.Load() == before {
		err = errors.New("no request was redirected to the data endpoint")
	}
	return ms, errors.Join(err, setDataEndpoint(ctx, t, false))
}

// The small blobs of redirect-small-get: distinct blobs of 1 KiB, read in
// turn by one client.
const (
	smallBlobRepo  = "redirect/small"
	smallBlobCount = 256
	smallBlobSize  = 1024
)

func smallBlob(i int) []byte {
	return content{seed: mix(0x646174 + uint64(i)), size: smallBlobSize, tailFrom: smallBlobSize + 8}.bytes()
}

func prepareSmallBlobs(ctx context.Context, _ *bench, t *target) ([]metric, error) {
	if err := setDataEndpoint(ctx, t, false); err != nil {
		return nil, err
	}
	for i := range smallBlobCount {
		if err := t.c.pushSmall(ctx, smallBlobRepo, smallBlob(i)); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// runSmallBlobs GETs the small blobs one after the other, at concurrency
// 1, for -duration, and reports the latency of each whole GET.
func runSmallBlobs(ctx context.Context, b *bench, t *target, _ int) ([]metric, error) {
	digests := make([]string, smallBlobCount)
	for i := range digests {
		digests[i] = digestOf(smallBlob(i))
	}
	buf := make([]byte, 64<<10)
	return viaDataEndpoint(ctx, t, func() ([]metric, error) {
		sp := startSpan(t)
		st, err := closedLoop(ctx, 1, b.cfg.duration, func(ctx context.Context, _, j int) error {
			return t.c.pullBlob(ctx, smallBlobRepo, digests[j%smallBlobCount], smallBlobSize, buf)
		})
		_, cpu := sp.end()
		if err != nil {
			return nil, err
		}
		return append(rateMetrics(st), cpu...), nil
	})
}
