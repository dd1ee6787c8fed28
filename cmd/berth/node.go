package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"berth/internal/auth"
	"berth/internal/berth"
	"berth/internal/blobstore/azblob"
	"berth/internal/blobstore/fs"
	"berth/internal/dataendpoint"
	"berth/internal/hosts"
	"berth/internal/metacache"
	"berth/internal/mgmt"
	"berth/internal/oci"
	"berth/internal/ratelimit"
	"berth/internal/uploadgc"
)

// nodeStore is everything a node asks of its metadata store.
type nodeStore interface {
	berth.MetadataStore
	berth.IdentityStore
	berth.KeyStore
	berth.ContentAdmin
	CloseStaleUploads(ctx context.Context, before time.Time, limit int) ([]berth.Upload, error)
}

// node is one region node's HTTP surface: the registry API (/v2/), the
// token service (/oauth2/) and the management API (/api/), on every host.
type node struct {
	keys    berth.KeyStore
	signer  *dataendpoint.Signer
	mux     *http.ServeMux
	api     http.Handler // the registry API, /v2/
	forget  func()       // drops the cached registries
	data    http.Handler // the data endpoints of the node's region
	domain  string
	auth    *auth.Service
	uploads *uploadgc.Sweeper // nil: abandoned upload sessions stay
	log     *slog.Logger
}

// hostCacheTTL bounds how long a node serves a registry with settings that
// another node changed (this node forgets at once).
const hostCacheTTL = 2 * time.Second

// uploadSweep is how often a node closes abandoned upload sessions;
// minUploadMaxAge is the shortest --upload-max-age: a session's last write
// time moves only when a chunk has arrived whole, so a shorter age could
// close a session in the middle of a slow chunk.
const (
	uploadSweep     = time.Hour
	minUploadMaxAge = time.Hour
)

// keyRotation is how old the newest token signing key may get before the
// node rotates it; keyCheck is how often it looks.
const (
	keyRotation = 7 * 24 * time.Hour
	keyCheck    = time.Hour
)

// newNode wires the node's handlers over meta and the blob store in the
// data directory. verifyOperator checks the operator credential.
func newNode(ctx context.Context, c serveConfig, meta nodeStore, verifyOperator func(string) bool, tls bool, log *slog.Logger) (*node, error) {
	blobs, storageLocator, err := openBlobStore(ctx, c)
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	resolver := hosts.New(meta, c.domain, hostCacheTTL)
	authSvc, err := auth.NewService(auth.Config{Domain: c.domain, Scheme: scheme, OperatorToken: verifyOperator}, meta, namespacedKeys{meta, "bearer-"}, log)
	if err != nil {
		return nil, err
	}
	var authz oci.Authorizer
	var limit oci.Limiter
	if c.auth {
		authz = authSvc
		if limit, err = newLimiter(c); err != nil {
			return nil, err
		}
	}
	signer, err := dataendpoint.NewSigner(meta, dataendpoint.SignerConfig{Log: log}, time.Now)
	if err != nil {
		return nil, err
	}
	data, err := dataendpoint.NewHandler(signer, blobs, nil, dataendpoint.NewLogAuditor(log), c.domain, c.region, log)
	if err != nil {
		return nil, err
	}
	locator, err := dataendpoint.NewLocator(signer, dataendpoint.LocatorConfig{Domain: c.domain, Region: c.region, Port: portOf(c.dataListen)})
	if err != nil {
		return nil, err
	}
	reads := metacache.New(meta, c.readCache)
	api := oci.NewHandler(oci.Deps{
		Hosts: resolver, Meta: reads, Blobs: blobs, Auth: authz, Limit: limit,
		Locators: append([]oci.BlobLocator{locator}, storageLocator...), Log: log,
	})
	manage := mgmt.NewHandler(
		mgmt.Config{Domain: c.domain, Region: c.region, VerifyOperator: verifyOperator,
			Allowlist: allowlister{domain: c.domain, region: c.region, login: c.listen, data: c.dataListen, storage: storageURL(c, storageLocator)}.Allowlist,
			Changed:   func(string) { resolver.Forget(); reads.Forget() }},
		mgmt.Deps{
			Registries:             meta,
			Identities:             meta,
			Content:                meta,
			Passwords:              mgmt.PasswordFuncs(auth.NewPassword, auth.HashPassword),
			BuiltInScopeMaps:       auth.BuiltInScopeMaps,
			ValidateScopeMapAction: auth.ValidateScopeMapAction,
		}, log)

	mux := http.NewServeMux()
	mux.Handle("/v2/", api)
	mux.Handle("/v2", api)
	mux.Handle("/oauth2/", authSvc.Handler(resolver))
	mux.Handle("/api/", manage)
	n := &node{keys: meta, signer: signer, mux: mux, api: api, forget: resolver.Forget, data: data, domain: strings.ToLower(c.domain), auth: authSvc, log: log}
	if c.uploadMaxAge > 0 {
		n.uploads = uploadgc.New(meta, blobs, c.uploadMaxAge, log)
	}
	return n, nil
}

// openBlobStore opens the blob store of --blob-store: the filesystem under
// the data directory, or an Azure Blob Storage container, whose read-only
// SAS URLs also make a locator for the shared-storage mode.
func openBlobStore(ctx context.Context, c serveConfig) (berth.BlobStore, []oci.BlobLocator, error) {
	switch c.blobStore {
	case "", "fs":
		s, err := fs.New(filepath.Join(c.dataDir, "blobs"))
		if err != nil {
			return nil, nil, fmt.Errorf("blob store: %w", err)
		}
		return s, nil, nil
	case "azblob":
		s, err := azblob.New(ctx, azblob.Config{AccountName: c.azAccount, AccountKey: c.azKey, ServiceURL: c.azURL,
			PublicURL: c.azPublicURL, Container: c.azContainer})
		if err != nil {
			return nil, nil, fmt.Errorf("azblob blob store: %w", err)
		}
		return s, []oci.BlobLocator{azblob.NewLocator(s)}, nil
	}
	return nil, nil, fmt.Errorf(`--blob-store must be "fs" or "azblob", not %q`, c.blobStore)
}

// storageURL is the storage service clients download from in the
// shared-storage mode, or "" when blobs never leave through storage URLs.
func storageURL(c serveConfig, locators []oci.BlobLocator) string {
	if len(locators) == 0 {
		return ""
	}
	if c.azPublicURL != "" {
		return c.azPublicURL
	}
	if c.azURL != "" {
		return c.azURL
	}
	return "https://" + c.azAccount + ".blob.core.windows.net/"
}

// newLimiter returns the rate limiter of --rate-limits and --rate-burst, or
// nil when limits are off.
func newLimiter(c serveConfig) (oci.Limiter, error) {
	if c.rateLimits == "off" {
		return nil, nil
	}
	limits, err := ratelimit.ParseLimits(c.rateLimits)
	if err != nil {
		return nil, fmt.Errorf("--rate-limits: %w", err)
	}
	l, err := ratelimit.New(ratelimit.Config{Limits: limits, Burst: c.rateBurst}, ratelimit.NewMemory(100_000))
	if err != nil {
		return nil, fmt.Errorf("--rate-limits: %w", err)
	}
	return ratelimit.PrincipalLimiter{Limiter: l}, nil
}

// ServeHTTP sends requests for a data endpoint host (*.data.<domain>) to the
// data endpoint handler, which serves only signed blob reads, and every other
// request to the login server, token and management APIs. The registry API,
// which parses its own paths, is reached without the mux's pattern match.
func (n *node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if n.isDataHost(r.Host) {
		n.data.ServeHTTP(w, r)
		return
	}
	if p := r.URL.Path; p == "/v2" || strings.HasPrefix(p, "/v2/") {
		n.api.ServeHTTP(w, r)
		return
	}
	n.mux.ServeHTTP(w, r)
}

func (n *node) isDataHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	suffix := ".data." + n.domain
	return len(host) > len(suffix) && strings.EqualFold(host[len(host)-len(suffix):], suffix)
}

// portOf returns the port of a listen address, or "" when there is none.
func portOf(addr string) string {
	if addr == "" {
		return ""
	}
	_, p, err := net.SplitHostPort(addr)
	if err != nil || p == "0" {
		return ""
	}
	return p
}

// rotateKeys rotates the token signing keys when the newest is older than
// keyRotation, checking every keyCheck until ctx ends. Nodes sharing a
// database see each other's keys, so only the first to look rotates.
func (n *node) rotateKeys(ctx context.Context) {
	t := time.NewTicker(keyCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := n.auth.RotateKeysOlderThan(ctx, keyRotation); err != nil {
			n.log.Warn("signing key rotation failed", "err", err)
		}
		if err := n.rotateDataKeys(ctx); err != nil {
			n.log.Warn("data endpoint key rotation failed", "err", err)
		}
	}
}

// rotateDataKeys rotates the data endpoint URL keys when the newest active
// one is older than keyRotation.
func (n *node) rotateDataKeys(ctx context.Context) error {
	keys, err := n.keys.SigningKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if strings.HasPrefix(k.ID, dataendpoint.KeyPrefix) && k.NotAfter.IsZero() && time.Since(k.CreatedAt) < keyRotation {
			return nil
		}
	}
	return n.signer.Rotate(ctx)
}
