package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth/internal/berth"
	"berth/internal/metadata/sqlite"
	"berth/internal/mgmt/mgmttest"
)

// newTestNode builds a node as `berth serve` does, over SQLite and the
// filesystem in a temporary data directory, with the default registry.
func newTestNode(t *testing.T) (*node, nodeStore, serveConfig) {
	t.Helper()
	return newTestNodeWith(t, func(*serveConfig) {})
}

// newTestNodeWith is newTestNode with the configuration changed by set.
func newTestNodeWith(t *testing.T, set func(*serveConfig)) (*node, nodeStore, serveConfig) {
	t.Helper()
	dir := t.TempDir()
	c := serveConfig{dataDir: dir, domain: "example.com", region: "eastus", auth: true}
	set(&c)
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	ctx := context.Background()
	if err := ensureRegistries(ctx, meta, c); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := newNode(ctx, c, meta, operatorVerifier("operator-secret"), false, log)
	if err != nil {
		t.Fatal(err)
	}
	return n, meta, c
}

// TestManagementSuiteOnNode runs the management API suite against the
// node's real wiring: SQLite metadata, the auth package's passwords and
// built-in scope maps.
func TestManagementSuiteOnNode(t *testing.T) {
	mgmttest.Run(t, func(t *testing.T) mgmttest.Target {
		n, meta, c := newTestNode(t)
		return mgmttest.Target{Handler: n, Token: "operator-secret", Domain: c.domain, Region: c.region, Content: meta}
	})
}

func TestDefaultRegistry(t *testing.T) {
	_, meta, _ := newTestNode(t)
	r, err := meta.RegistryByAlias(context.Background(), "localhost")
	if err != nil || r.Name != defaultRegistry || r.SKU != berth.SKUPremium {
		t.Fatalf("default registry = %+v, %v", r, err)
	}
}

// TestCLIOnNode runs the CLI suite against the node's real wiring.
func TestCLIOnNode(t *testing.T) {
	runCLISuite(t, func(t *testing.T) mgmttest.Target {
		n, meta, c := newTestNode(t)
		return mgmttest.Target{Handler: n, Token: "operator-secret", Domain: c.domain, Region: c.region, Content: meta}
	})
}

// TestDataKeysRotateWhenOld checks the node's schedule for data endpoint
// keys: a fresh key is kept, an old one is retired for a new one.
func TestDataKeysRotateWhenOld(t *testing.T) {
	n, meta, _ := newTestNode(t)
	ctx := context.Background()
	dataKeys := func() (active, retired int) {
		keys, _ := meta.SigningKeys(ctx)
		for _, k := range keys {
			if strings.HasPrefix(k.ID, "data-") {
				if k.NotAfter.IsZero() {
					active++
				} else {
					retired++
				}
			}
		}
		return
	}
	if err := n.rotateDataKeys(ctx); err != nil { // none yet: creates one
		t.Fatal(err)
	}
	if err := n.rotateDataKeys(ctx); err != nil { // fresh: kept
		t.Fatal(err)
	}
	if a, r := dataKeys(); a != 1 || r != 0 {
		t.Fatalf("after two checks: %d active, %d retired", a, r)
	}
	keys, _ := meta.SigningKeys(ctx)
	for _, k := range keys {
		if strings.HasPrefix(k.ID, "data-") {
			k.CreatedAt = time.Now().Add(-2 * keyRotation)
			if err := meta.PutSigningKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := n.rotateDataKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if a, r := dataKeys(); a != 1 || r != 1 {
		t.Fatalf("after the key aged: %d active, %d retired", a, r)
	}
}
