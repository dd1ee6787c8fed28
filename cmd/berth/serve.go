package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"berth/internal/berth"
	"berth/internal/httpx"
	"berth/internal/metadata/postgres"
	"berth/internal/metadata/sqlite"
)

// serveConfig is what `berth serve` is told by flags and environment.
type serveConfig struct {
	listen       string
	dataDir      string
	domain       string
	region       string
	metadata     string
	registries   []string
	logLevel     string
	accessLog    bool
	auth         bool
	operator     string
	tls          bool
	tlsCert      string
	tlsKey       string
	dataListen   string
	rateLimits   string
	rateBurst    time.Duration
	readCache    time.Duration
	uploadMaxAge time.Duration
	tagIndex     int

	blobStore   string // "fs" or "azblob"
	azURL       string
	azAccount   string
	azKey       string
	azContainer string
	azPublicURL string
}

// defaultRegistry is the registry of the embedded default, reachable as
// localhost.
const defaultRegistry = "default"

func serveCommand(getenv func(string) string, stderr io.Writer) *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a region node: the registry API of every registry",
		Long: `Run a region node. With no flags it serves the embedded default: region
"local", SQLite metadata and filesystem blobs under the data directory, plain
HTTP on 127.0.0.1:5000 and a registry "default" that answers for localhost.
Every flag can also be given as the environment variable in brackets.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			setNodeProcs(getenv)
			return serve(cmd.Context(), c, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.listen, "listen", envOr(getenv, "BERTH_LISTEN", "127.0.0.1:5000"), "address to listen on [BERTH_LISTEN]")
	f.StringVar(&c.dataDir, "data-dir", envOr(getenv, "BERTH_DATA_DIR", "berth-data"), "directory for blobs, SQLite metadata and keys [BERTH_DATA_DIR]")
	f.StringVar(&c.domain, "domain", envOr(getenv, "BERTH_DOMAIN", "localhost"), "login servers are <registry>.<domain> [BERTH_DOMAIN]")
	f.StringVar(&c.region, "region", envOr(getenv, "BERTH_REGION", berth.DefaultRegion), "region this node serves [BERTH_REGION]")
	f.StringVar(&c.metadata, "metadata", envOr(getenv, "BERTH_METADATA", "sqlite"), `metadata store: "sqlite" (in the data directory) or a postgres:// URL [BERTH_METADATA]`)
	f.StringSliceVar(&c.registries, "registry", splitList(getenv("BERTH_REGISTRIES")), "further registries to create at start, by name [BERTH_REGISTRIES]")
	f.StringVar(&c.logLevel, "log-level", envOr(getenv, "BERTH_LOG_LEVEL", "info"), "debug, info, warn or error [BERTH_LOG_LEVEL]")
	f.BoolVar(&c.accessLog, "access-log", envOr(getenv, "BERTH_ACCESS_LOG", "true") == "true", "log every request [BERTH_ACCESS_LOG]")
	f.BoolVar(&c.auth, "auth", envOr(getenv, "BERTH_AUTH", "true") == "true", "require credentials on the registry API; false serves every registry to anyone (local experiments only) [BERTH_AUTH]")
	f.StringVar(&c.operator, "operator-token", getenv("BERTH_OPERATOR_TOKEN"), "the operator credential; default: the one in <data-dir>/operator-token, generated on first start [BERTH_OPERATOR_TOKEN]")
	f.BoolVar(&c.tls, "tls", envOr(getenv, "BERTH_TLS", "false") == "true", "serve HTTPS with certificates of the local CA in <data-dir>/tls (see berth ca export) [BERTH_TLS]")
	f.StringVar(&c.tlsCert, "tls-cert", getenv("BERTH_TLS_CERT"), "serve HTTPS with this certificate chain (PEM) instead of the local CA's [BERTH_TLS_CERT]")
	f.StringVar(&c.blobStore, "blob-store", envOr(getenv, "BERTH_BLOB_STORE", "fs"), `where blobs live: "fs" (under the data directory) or "azblob" (Azure Blob Storage) [BERTH_BLOB_STORE]`)
	f.StringVar(&c.azURL, "azblob-url", getenv("BERTH_AZBLOB_URL"), "Azure Blob service URL, e.g. https://<account>.blob.core.windows.net/ [BERTH_AZBLOB_URL]")
	f.StringVar(&c.azAccount, "azblob-account", getenv("BERTH_AZBLOB_ACCOUNT"), "Azure storage account name [BERTH_AZBLOB_ACCOUNT]")
	f.StringVar(&c.azKey, "azblob-key", getenv("BERTH_AZBLOB_KEY"), "Azure storage account key (base64); prefer the environment variable [BERTH_AZBLOB_KEY]")
	f.StringVar(&c.azPublicURL, "azblob-public-url", getenv("BERTH_AZBLOB_PUBLIC_URL"), "the blob endpoint as clients reach it, for SAS URLs in shared-storage mode; default --azblob-url [BERTH_AZBLOB_PUBLIC_URL]")
	f.StringVar(&c.azContainer, "azblob-container", envOr(getenv, "BERTH_AZBLOB_CONTAINER", "berth"), "Azure Blob container for every registry's blobs [BERTH_AZBLOB_CONTAINER]")
	f.StringVar(&c.rateLimits, "rate-limits", getenv("BERTH_RATE_LIMITS"), `operations per minute per SKU, e.g. "Basic=1000/100,Premium=10000/2000" (reads/writes; ACR's figures by default), or "off" [BERTH_RATE_LIMITS]`)
	f.DurationVar(&c.rateBurst, "rate-burst", time.Minute, "how much of a minute's operations may come at once")
	f.DurationVar(&c.readCache, "read-cache-ttl", time.Second, "how long a node reuses a tag, manifest or blob lookup; writes made elsewhere are seen within it (0: no cache)")
	f.DurationVar(&c.uploadMaxAge, "upload-max-age", 7*24*time.Hour, "close an upload session and remove its bytes once no chunk has reached it for this long, at least 1h; checked at start and hourly (0: never)")
	f.IntVar(&c.tagIndex, "tag-index-max", sqlite.DefaultTagIndexMax, "with SQLite metadata, resolve tags from memory (about 70 bytes each) while there are at most this many, a repository counting as 6 (0: never)")
	f.StringVar(&c.dataListen, "data-listen", getenv("BERTH_DATA_LISTEN"), "also serve the data endpoints on this address; their URLs then name its port [BERTH_DATA_LISTEN]")
	f.StringVar(&c.tlsKey, "tls-key", getenv("BERTH_TLS_KEY"), "the private key (PEM) of --tls-cert [BERTH_TLS_KEY]")
	return cmd
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func serve(ctx context.Context, c serveConfig, stderr io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	if c.uploadMaxAge < 0 || (c.uploadMaxAge > 0 && c.uploadMaxAge < minUploadMaxAge) {
		return fmt.Errorf("--upload-max-age %s: give 0 (never) or at least %s, so that no session is closed while a chunk is still arriving",
			c.uploadMaxAge, minUploadMaxAge)
	}

	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	meta, err := openMetadata(ctx, c)
	if err != nil {
		return err
	}
	defer meta.Close()
	if err := ensureRegistries(ctx, meta, c); err != nil {
		return err
	}
	op, err := operatorToken(c.dataDir, c.operator, stderr)
	if err != nil {
		return err
	}
	tlsConfig, err := serverTLS(c)
	if err != nil {
		return err
	}
	n, err := newNode(ctx, c, meta, operatorVerifier(op), tlsConfig != nil, log)
	if err != nil {
		return err
	}
	var h http.Handler = n
	if c.accessLog {
		h = httpx.AccessLog(h, log)
	}

	addrs := []string{c.listen}
	if c.dataListen != "" {
		addrs = append(addrs, c.dataListen)
	}
	var lns []net.Listener
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll(lns)
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
		if tlsConfig != nil {
			ln = tls.NewListener(ln, tlsConfig)
		}
		lns = append(lns, ln)
	}
	if !c.auth {
		log.Warn("authentication is off: every registry is open to anyone who reaches " + c.listen)
	}
	go n.rotateKeys(ctx)
	if n.uploads != nil {
		go n.uploads.Run(ctx, uploadSweep)
	}
	log.Info("berth serving", "addr", lns[0].Addr().String(), "data_addr", c.dataListen, "tls", tlsConfig != nil,
		"region", c.region, "domain", c.domain, "data_dir", c.dataDir, "metadata", metadataKind(c.metadata), "auth", c.auth, "procs", runtime.GOMAXPROCS(0))
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errs <- httpx.Serve(ctx, ln, h, log, 30*time.Second) }()
	}
	err = <-errs
	if ctx.Err() == nil {
		closeAll(lns) // one listener failed: stop the others too
	}
	for range len(lns) - 1 {
		err = errors.Join(err, <-errs)
	}
	log.Info("berth stopped")
	return err
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

func openMetadata(ctx context.Context, c serveConfig) (nodeStore, error) {
	switch {
	case c.metadata == "sqlite":
		max := c.tagIndex
		if max <= 0 {
			max = -1
		}
		s, err := sqlite.OpenWith(filepath.Join(c.dataDir, "metadata.db"), sqlite.Options{TagIndexMax: max})
		if err != nil {
			return nil, fmt.Errorf("sqlite metadata: %w", err)
		}
		return s, nil
	case strings.HasPrefix(c.metadata, "postgres://"), strings.HasPrefix(c.metadata, "postgresql://"):
		s, err := postgres.Open(ctx, c.metadata)
		if err != nil {
			return nil, fmt.Errorf("postgres metadata: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf(`--metadata must be "sqlite" or a postgres:// URL, not %q`, c.metadata)
}

func metadataKind(m string) string {
	if m == "sqlite" {
		return m
	}
	return "postgres"
}

// ensureRegistries creates the default registry (Premium, answering for
// localhost) and those named by --registry (Basic), when they do not exist
// yet.
func ensureRegistries(ctx context.Context, meta berth.RegistryStore, c serveConfig) error {
	want := []berth.Registry{{Name: defaultRegistry, Location: c.region, Aliases: []string{"localhost", "127.0.0.1", "::1"},
		Settings: berth.Settings{SKU: berth.SKUPremium}}}
	for _, name := range c.registries {
		want = append(want, berth.Registry{Name: strings.TrimSpace(name), Location: c.region, Settings: berth.Settings{SKU: berth.SKUBasic}})
	}
	for _, r := range want {
		_, err := meta.Registry(ctx, r.Name)
		if err == nil {
			continue
		}
		if !berth.IsNotFound(err) {
			return err
		}
		r.CreatedAt = time.Now().UTC()
		if err := meta.CreateRegistry(ctx, r); err != nil && berth.KindOf(err) != berth.KindExists {
			return fmt.Errorf("creating registry %q: %w", r.Name, err)
		}
	}
	return nil
}
