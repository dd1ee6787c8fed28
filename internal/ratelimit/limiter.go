package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"berth/internal/berth"
)

// Op is the kind of operation a request counts as.
type Op uint8

// The kinds of operation.
const (
	Read  Op = iota // GET, HEAD (and OPTIONS)
	Write           // PUT, POST, PATCH, DELETE and anything else
)

func (o Op) String() string {
	if o == Read {
		return "read"
	}
	return "write"
}

// OpOf returns the kind of operation of an HTTP method.
func OpOf(method string) Op {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return Read
	}
	return Write
}

// Key names what a request is counted against.
type Key struct {
	Registry string
	Identity string // the principal ("token:ci@contoso"); "" counts against the registry only
	SKU      berth.SKU
	Op       Op
}

// Limits are the operations per minute a registry of one SKU allows.
type Limits struct {
	Read  float64
	Write float64
}

// DefaultLimits returns ACR's throttling limits: Basic 1,000 reads and 100
// writes per minute, Standard 3,000 and 500, Premium 10,000 and 2,000.
func DefaultLimits() map[berth.SKU]Limits {
	return map[berth.SKU]Limits{
		berth.SKUBasic:    {Read: 1000, Write: 100},
		berth.SKUStandard: {Read: 3000, Write: 500},
		berth.SKUPremium:  {Read: 10000, Write: 2000},
	}
}

// Config configures a Limiter. The zero Config is ACR's limits.
type Config struct {
	// Limits per SKU; nil means DefaultLimits. The empty SKU counts as
	// Basic, as the zero berth.Settings does.
	Limits map[berth.SKU]Limits
	// IdentityShare is the fraction of the registry's limits that one
	// identity may use on its own, in (0, 1]; default 0.5, so that one
	// busy identity leaves room for the others.
	IdentityShare float64
	// Burst is how much of the limit a full bucket holds, as a duration of
	// its rate; default one minute, so that a burst of a whole minute's
	// operations passes at once.
	Burst time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Limiter applies the limits of a registry's SKU per registry and per
// identity: a request passes when both buckets allow it. It is safe for
// concurrent use; its state is in its Buckets.
type Limiter struct {
	cfg     Config
	buckets Buckets
}

// New returns a Limiter over buckets. It returns KindInvalid when a limit
// is not positive, IdentityShare is outside (0, 1] or Burst is negative.
func New(cfg Config, buckets Buckets) (*Limiter, error) {
	const op = "ratelimit.New"
	if cfg.Limits == nil {
		cfg.Limits = DefaultLimits()
	}
	for sku, l := range cfg.Limits {
		if !(l.Read > 0) || !(l.Write > 0) {
			return nil, berth.E(op, berth.KindInvalid, "limits of SKU %q must be positive, not %v reads and %v writes per minute", sku, l.Read, l.Write)
		}
	}
	if cfg.IdentityShare == 0 {
		cfg.IdentityShare = 0.5
	}
	if !(cfg.IdentityShare > 0 && cfg.IdentityShare <= 1) {
		return nil, berth.E(op, berth.KindInvalid, "identity share %v is not in (0, 1]", cfg.IdentityShare)
	}
	if cfg.Burst < 0 {
		return nil, berth.E(op, berth.KindInvalid, "burst %v is negative", cfg.Burst)
	}
	if cfg.Burst == 0 {
		cfg.Burst = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if buckets == nil {
		return nil, berth.E(op, berth.KindInvalid, "no buckets")
	}
	return &Limiter{cfg: cfg, buckets: buckets}, nil
}

// Allow takes one operation from the identity's bucket and then from the
// registry's. It returns ok, or how long to wait; err only when the
// buckets fail, or KindInvalid when the SKU has no limits. A request
// refused by the registry's bucket has still used one of its identity's
// operations.
func (l *Limiter) Allow(ctx context.Context, key Key) (bool, time.Duration, error) {
	le, err := l.take(ctx, key)
	if err != nil || le == nil {
		return err == nil, 0, err
	}
	return false, le.RetryAfter, nil
}

// Check is Allow as an error: nil when the request may proceed, a
// *berth.Error of KindTooManyRequests whose cause is a *LimitError naming
// the limit when it may not, or the error of the buckets.
func (l *Limiter) Check(ctx context.Context, key Key) error {
	le, err := l.take(ctx, key)
	if err != nil {
		return err
	}
	if le != nil {
		return berth.Wrap("ratelimit.Check", berth.KindTooManyRequests, le)
	}
	return nil
}

func (l *Limiter) take(ctx context.Context, key Key) (*LimitError, error) {
	sku := key.SKU
	if sku == "" {
		sku = berth.SKUBasic
	}
	lim, ok := l.cfg.Limits[sku]
	if !ok {
		return nil, berth.E("ratelimit.Allow", berth.KindInvalid, "no rate limits for SKU %q", sku)
	}
	perMinute := lim.Read
	if key.Op == Write {
		perMinute = lim.Write
	}
	rate := perMinute / 60
	burst := max(rate*l.cfg.Burst.Seconds(), 1)
	now := l.cfg.Now()
	if key.Identity != "" {
		share := l.cfg.IdentityShare
		name := "identity/" + key.Registry + "/" + key.Op.String() + "/" + key.Identity
		ok, wait, err := l.buckets.Take(ctx, name, rate*share, max(burst*share, 1), now)
		if err != nil {
			return nil, berth.Wrap("ratelimit.Allow", berth.KindOf(err), err)
		}
		if !ok {
			return &LimitError{Key: key, PerMinute: perMinute * share, PerIdentity: true, RetryAfter: wait}, nil
		}
	}
	ok, wait, err := l.buckets.Take(ctx, "registry/"+key.Registry+"/"+key.Op.String(), rate, burst, now)
	if err != nil {
		return nil, berth.Wrap("ratelimit.Allow", berth.KindOf(err), err)
	}
	if !ok {
		return &LimitError{Key: key, PerMinute: perMinute, RetryAfter: wait}, nil
	}
	return nil, nil
}

// LimitError says which limit refused a request and when to retry.
type LimitError struct {
	Key         Key
	PerMinute   float64 // the limit that applied
	PerIdentity bool    // the identity's own limit, not the registry's
	RetryAfter  time.Duration
}

func (e *LimitError) Error() string {
	sku := e.Key.SKU
	if sku == "" {
		sku = berth.SKUBasic
	}
	if e.PerIdentity {
		return fmt.Sprintf("%s may make %g %s operations per minute in registry %q (SKU %s); retry after %v",
			e.Key.Identity, e.PerMinute, e.Key.Op, e.Key.Registry, sku, e.RetryAfter)
	}
	return fmt.Sprintf("registry %q allows %g %s operations per minute (SKU %s); retry after %v",
		e.Key.Registry, e.PerMinute, e.Key.Op, sku, e.RetryAfter)
}

// PrincipalLimiter adapts a Limiter to callers that hold the registry and
// the principal of a request, as the /v2/ handler does. Each principal is
// an identity; anonymous callers of a registry share one.
type PrincipalLimiter struct {
	Limiter *Limiter
}

// Allow is Limiter.Allow for a request of p to reg, a write when write is
// set, under the limits of reg's SKU.
func (pl PrincipalLimiter) Allow(ctx context.Context, reg berth.Registry, p berth.Principal, write bool) (bool, time.Duration, error) {
	op := Read
	if write {
		op = Write
	}
	return pl.Limiter.Allow(ctx, Key{Registry: reg.Name, Identity: p.String(), SKU: reg.SKU, Op: op})
}
