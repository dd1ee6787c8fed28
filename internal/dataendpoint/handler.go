package dataendpoint

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// BlobReader is what a data endpoint needs of a berth.BlobStore. Errors are
// *berth.Error; a missing blob is KindNotFound.
type BlobReader interface {
	// Stat returns the size of a committed blob.
	Stat(ctx context.Context, registry string, dgst digest.Digest) (int64, error)
	// Get opens a committed blob from offset; length < 0 reads to the end.
	Get(ctx context.Context, registry string, dgst digest.Digest, offset, length int64) (io.ReadCloser, error)
}

// Verifier checks the token of a data-endpoint URL; *Signer is one. Verify
// returns KindUnauthorized naming the cause when the token is not genuine
// or no longer valid.
type Verifier interface {
	Verify(ctx context.Context, token string) (Claims, error)
}

// NetworkRules decides whether a client may reach a registry at all.
type NetworkRules interface {
	// Check returns nil when the client of r may reach registry, KindDenied
	// naming the rule when it may not, and KindNotFound when the registry
	// does not exist.
	Check(r *http.Request, registry string) error
}

// Handler serves the data endpoints of one region: read-only access to the
// blobs of every registry, each under its own host name, with a signed URL
// only. It never reads the Authorization header.
type Handler struct {
	verifier Verifier
	blobs    BlobReader
	rules    NetworkRules
	audit    Auditor
	domain   string
	region   string
	log      *slog.Logger
}

// NewHandler returns the data-endpoint handler of region under domain
// ("example.com": hosts "<registry>.<region>.data.example.com"). rules may
// be nil (no network rules); audit receives a Record for every blob served;
// log (nil discards) gets server errors and, at debug level, refusals. The
// error is KindInvalid when domain is not a host name or region not a DNS
// label, or when verifier, blobs or audit is nil.
func NewHandler(verifier Verifier, blobs BlobReader, rules NetworkRules, audit Auditor, domain, region string, log *slog.Logger) (*Handler, error) {
	const op = "dataendpoint.NewHandler"
	d, ok := normalizeDomain(domain)
	switch {
	case verifier == nil || blobs == nil || audit == nil:
		return nil, berth.E(op, berth.KindInvalid, "a data endpoint needs a verifier, a blob reader and an auditor")
	case !ok:
		return nil, berth.E(op, berth.KindInvalid, "domain %q is not a host name (IP addresses are not allowed)", domain)
	case !validLabel(region):
		return nil, berth.E(op, berth.KindInvalid, "region %q is not a DNS label", region)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{verifier: verifier, blobs: blobs, rules: rules, audit: audit, domain: d, region: region, log: log}, nil
}

// ServeHTTP checks, in this order, the host, the method, the path, the
// token, what the token binds, and the registry's network rules; then it
// serves the blob. Each refusal is an OCI error body whose message names
// the cause (see the package documentation for the table).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const op = "dataendpoint.ServeHTTP"
	registry, region, err := parseHost(r.Host, h.domain)
	if err == nil && region != h.region {
		err = refuse(op, berth.KindNotFound, http.StatusNotFound, codeNameUnknown,
			"host %s is a data endpoint of region %q; this node serves region %q", quote(r.Host), region, h.region)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.writeError(w, r, refuse(op, berth.KindUnsupported, http.StatusMethodNotAllowed, codeUnsupported,
			"method %s is not allowed: a data endpoint is read-only and serves GET and HEAD only", quote(r.Method)))
		return
	}
	repo, d, err := parseBlobPath(r.URL.EscapedPath())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	token, err := tokenOf(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.verifier.Verify(r.Context(), token)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	client, hasClient := clientAddr(r)
	if err := h.checkBinding(c, registry, repo, d, client, hasClient); err != nil {
		h.writeError(w, r, err)
		return
	}
	if h.rules != nil {
		if err := h.rules.Check(r, registry); err != nil {
			if berth.IsNotFound(err) {
				err = refuse(op, berth.KindNotFound, http.StatusNotFound, codeNameUnknown, "%s", berth.Message(err))
			}
			h.writeError(w, r, err)
			return
		}
	}
	rec := Record{Registry: registry, Region: region, Repository: repo, Digest: d, Identity: c.Identity, Method: r.Method}
	if hasClient {
		rec.ClientAddr = client.String()
	}
	h.serve(w, r, c, rec)
}

// tokenOf returns the one bt query parameter of r.
func tokenOf(r *http.Request) (string, error) {
	const op = "dataendpoint.token"
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", refuse(op, berth.KindUnauthorized, http.StatusUnauthorized, codeUnauthorized,
			"the query string is malformed; want ?bt=<token> as the login server issued it")
	}
	switch bt := q["bt"]; len(bt) {
	case 0:
		return "", refuse(op, berth.KindUnauthorized, http.StatusUnauthorized, codeUnauthorized,
			"the request carries no token: a data endpoint serves only the signed URLs that the registry's login server redirects to (query parameter bt); credentials are not accepted")
	case 1:
		return bt[0], nil
	default:
		return "", refuse(op, berth.KindUnauthorized, http.StatusUnauthorized, codeUnauthorized,
			"the request carries %d tokens; want exactly one bt parameter", len(bt))
	}
}

// clientAddr returns the IP address r came from, without zone and with
// IPv4-mapped addresses unmapped; false when RemoteAddr holds none.
func clientAddr(r *http.Request) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// checkBinding compares what a genuine token binds with the request. Each
// mismatch is 403 DENIED naming both sides.
func (h *Handler) checkBinding(c Claims, registry, repo string, d digest.Digest, client netip.Addr, hasClient bool) error {
	const op = "dataendpoint.checkBinding"
	deny := func(format string, args ...any) error {
		return refuse(op, berth.KindDenied, http.StatusForbidden, codeDenied, format, args...)
	}
	switch {
	case c.Class != ClassRead:
		return deny("token grants %q access; a data endpoint serves reads only", c.Class)
	case c.Registry != registry:
		return deny("token was issued for registry %q; this is the data endpoint of registry %q", c.Registry, registry)
	case c.Region != h.region:
		return deny("token was issued for region %q; this is the data endpoint of region %q", c.Region, h.region)
	case c.Repository != repo:
		return deny("token was issued for repository %q, not %q", c.Repository, repo)
	case c.Digest != d:
		return deny("token was issued for blob %s, not %s", c.Digest, d)
	case c.ClientAddr.IsValid() && !hasClient:
		return deny("token is bound to client address %s, and the request's address is unknown", c.ClientAddr)
	case c.ClientAddr.IsValid() && c.ClientAddr != client:
		return deny("token is bound to client address %s; the request comes from %s", c.ClientAddr, client)
	}
	return nil
}

// serve answers GET or HEAD of blob rec.Digest with a single byte range,
// then audits it. The body is copied with io.Copy straight from the
// BlobReader's reader, so a file-backed store is sent with sendfile.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, c Claims, rec Record) {
	ctx := r.Context()
	size, err := h.blobs.Stat(ctx, rec.Registry, rec.Digest)
	if err != nil {
		h.writeError(w, r, blobError(err, rec))
		return
	}
	hdr := w.Header()
	offset, length, partial, err := parseRange(r.Header.Get("Range"), size)
	if errors.Is(err, errRangeUnsatisfiable) {
		hdr.Set("Content-Range", "bytes */"+itoa(size))
		h.writeError(w, r, refuse("dataendpoint.serve", berth.KindInvalid, http.StatusRequestedRangeNotSatisfiable, codeRangeInvalid,
			"range %s is outside blob %s of %d bytes", quote(r.Header.Get("Range")), rec.Digest, size))
		return
	}
	status, n := http.StatusOK, int64(-1)
	if partial {
		status, n = http.StatusPartialContent, length
	}
	var body io.ReadCloser
	if r.Method != http.MethodHead {
		if body, err = h.blobs.Get(ctx, rec.Registry, rec.Digest, offset, n); err != nil {
			h.writeError(w, r, blobError(err, rec))
			return
		}
		defer body.Close()
	}
	maxAge := max(int64(time.Until(c.Expires)/time.Second), 0)
	hdr.Set("Content-Type", "application/octet-stream")
	hdr.Set("Docker-Content-Digest", rec.Digest.String())
	hdr.Set("ETag", `"`+rec.Digest.String()+`"`)
	hdr.Set("Accept-Ranges", "bytes")
	hdr.Set("Cache-Control", "private, max-age="+itoa(maxAge))
	hdr.Set("Content-Length", itoa(length))
	if partial {
		hdr.Set("Content-Range", "bytes "+itoa(offset)+"-"+itoa(offset+length-1)+"/"+itoa(size))
	}
	w.WriteHeader(status)
	if body != nil {
		sent, err := io.Copy(w, body)
		rec.Bytes = sent
		if err != nil {
			h.log.DebugContext(ctx, "blob body not fully sent", slog.String("digest", rec.Digest.String()),
				slog.Int64("sent", sent), slog.Int64("length", length), slog.Any("err", err))
		}
	}
	rec.Status = status
	rec.Time = time.Now().UTC()
	h.audit.BlobServed(context.WithoutCancel(ctx), rec)
}

// blobError turns a "not found" of the blob store into 404 BLOB_UNKNOWN
// naming the blob; other errors pass.
func blobError(err error, rec Record) error {
	if berth.IsNotFound(err) {
		return refuse("dataendpoint.serve", berth.KindNotFound, http.StatusNotFound, codeBlobUnknown,
			"blob %s is not in registry %q", rec.Digest, rec.Registry)
	}
	return err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
