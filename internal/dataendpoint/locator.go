package dataendpoint

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// URL returns the data-endpoint URL that opens the blob of c with token:
//
//	<scheme>://<registry>.<region>.data.<domain>[:<port>]/v2/<repository>/blobs/<digest>?bt=<token>
//
// Registry, region, repository and digest come from c, so the URL cannot
// name another blob than the token does. The path has the shape of the
// login server's blob path, so that logs, proxies and firewalls see the same
// names on both hosts. port is left out when empty. Every part is used as
// given: the caller passes names that Mint accepted, a domain that is a
// host name, and the token that Mint returned (base64url and '.', which
// need no escaping).
func URL(scheme, domain, port string, c Claims, token string) string {
	host := Host(c.Registry, c.Region, domain)
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host + "/v2/" + c.Repository + "/blobs/" + c.Digest.String() + "?bt=" + token
}

// Minter mints tokens for data-endpoint URLs; *Signer is one.
type Minter interface {
	Mint(ctx context.Context, c Claims) (string, error)
}

// LocatorConfig configures a Locator.
type LocatorConfig struct {
	Domain         string        // the service domain, as in "<registry>.<domain>"
	Region         string        // the region of this node, whose data endpoints the URLs name
	TTL            time.Duration // lifetime of the tokens; zero: the Minter's default
	BindClientAddr bool          // bind each token to the address of the client it was minted for
	// Port, when set, is the port the data endpoints are reached on (a
	// listener of their own); otherwise the URL keeps the port of the
	// login server request.
	Port string
}

// Locator tells the login server where a blob is served when its registry
// has dedicated data endpoints.
type Locator struct {
	minter Minter
	cfg    LocatorConfig
}

// NewLocator returns a Locator that mints with m. The error is KindInvalid
// when cfg.Domain is not a host name (an IP address is refused), cfg.Region
// not a DNS label, or cfg.TTL negative.
func NewLocator(m Minter, cfg LocatorConfig) (*Locator, error) {
	const op = "dataendpoint.NewLocator"
	d, ok := normalizeDomain(cfg.Domain)
	switch {
	case m == nil:
		return nil, berth.E(op, berth.KindInvalid, "a locator needs a minter")
	case !ok:
		return nil, berth.E(op, berth.KindInvalid, "domain %q is not a host name (IP addresses are not allowed)", cfg.Domain)
	case !validLabel(cfg.Region):
		return nil, berth.E(op, berth.KindInvalid, "region %q is not a DNS label", cfg.Region)
	case cfg.TTL < 0:
		return nil, berth.E(op, berth.KindInvalid, "token lifetime %s is negative", cfg.TTL)
	case cfg.Port != "" && !validPort(cfg.Port):
		return nil, berth.E(op, berth.KindInvalid, "data endpoint port %q is not a port number", cfg.Port)
	}
	cfg.Domain = d
	return &Locator{minter: m, cfg: cfg}, nil
}

// BlobURL returns the signed data-endpoint URL of blob d of repo for the
// authorized request r of principal p, or "" when reg has no dedicated data
// endpoints (the caller then streams the blob or uses its store's own URL).
// The URL names this node's region; its scheme is https when r came over
// TLS and http otherwise, and it keeps the port of r.Host unless that is the
// scheme's default or not a port number. The caller has already authorized the pull. The error
// is KindInvalid when a name is malformed or, with BindClientAddr, when
// r.RemoteAddr holds no IP address; else the Minter's.
func (l *Locator) BlobURL(r *http.Request, reg berth.Registry, repo string, d digest.Digest, p berth.Principal) (string, error) {
	if !reg.DataEndpointEnabled {
		return "", nil
	}
	c := Claims{
		Registry:   reg.Name,
		Region:     l.cfg.Region,
		Repository: repo,
		Digest:     d,
		Identity:   p.String(),
		Class:      ClassRead,
		TTL:        l.cfg.TTL,
	}
	if reg.DataEndpointURLTTL > 0 {
		c.TTL = reg.DataEndpointURLTTL // the registry's own lifetime
	}
	if l.cfg.BindClientAddr {
		a, ok := clientAddr(r)
		if !ok {
			return "", berth.E("dataendpoint.BlobURL", berth.KindInvalid, "cannot bind the URL to the client: remote address %q is not an IP address", r.RemoteAddr)
		}
		c.ClientAddr = a
	}
	token, err := l.minter.Mint(r.Context(), c)
	if err != nil {
		return "", err
	}
	scheme, def := "http", "80"
	if r.TLS != nil {
		scheme, def = "https", "443"
	}
	port := ""
	if _, p, err := net.SplitHostPort(r.Host); err == nil && p != def && validPort(p) {
		port = p
	}
	if l.cfg.Port != "" {
		port = l.cfg.Port
		if port == def {
			port = ""
		}
	}
	return URL(scheme, l.cfg.Domain, port, c, token), nil
}

// validPort reports whether s is a port number from 1 to 65535 in decimal.
func validPort(s string) bool {
	n, err := strconv.ParseUint(s, 10, 16)
	return err == nil && n > 0 && s[0] != '0'
}
