package oci

import (
	"context"
	"net/http"
	"time"

	"berth/internal/berth"
)

// Authorizer decides who a request is and whether it may do what it needs.
// Authorize returns KindUnauthorized (no or bad credentials) or KindDenied
// (authenticated, not allowed) with a message that names the cause. Neither
// method may modify need, whose slices are shared between requests.
type Authorizer interface {
	Authorize(r *http.Request, reg berth.Registry, need []berth.Access) (berth.Principal, error)
	// Challenge returns the WWW-Authenticate value of a 401 for need.
	Challenge(r *http.Request, reg berth.Registry, need []berth.Access) string
}

// Limiter applies rate limits per registry and identity. Allow returns
// false with the time after which to retry when a limit is exhausted.
type Limiter interface {
	Allow(ctx context.Context, reg berth.Registry, p berth.Principal, write bool) (ok bool, retryAfter time.Duration, err error)
}

type principalKey struct{}

// principalCtx is the context of an authorized request. It holds the
// principal itself, so that recording it costs one allocation where
// context.WithValue takes two; every other key is its parent's.
type principalCtx struct {
	context.Context
	p berth.Principal
}

func (c *principalCtx) Value(key any) any {
	if key == (principalKey{}) {
		return &c.p
	}
	return c.Context.Value(key)
}

// PrincipalFrom returns the principal a request of this API was authorized
// as, and false outside an authorized request.
func PrincipalFrom(ctx context.Context) (berth.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*berth.Principal)
	if !ok {
		return berth.Principal{}, false
	}
	return *p, true
}

// The actions of need, shared by every request.
var (
	actionsPull     = []string{berth.ActionPull}
	actionsPullPush = []string{berth.ActionPull, berth.ActionPush}
	actionsDelete   = []string{berth.ActionDelete}
	needCatalog     = []berth.Access{{Type: "registry", Name: "catalog", Actions: []string{"*"}}}
)

// need returns what a request needs, in Docker token scope terms.
func need(q request, method string) []berth.Access {
	repo := func(actions []string) []berth.Access {
		return []berth.Access{{Type: "repository", Name: q.name, Actions: actions}}
	}
	read := method == http.MethodGet || method == http.MethodHead
	switch q.route {
	case routeBase:
		return nil
	case routeCatalog:
		return needCatalog
	case routeManifest, routeBlob:
		switch {
		case read:
			return repo(actionsPull)
		case method == http.MethodDelete:
			return repo(actionsDelete)
		}
		return repo(actionsPullPush)
	case routeTags, routeReferrers:
		return repo(actionsPull)
	}
	return repo(actionsPullPush) // uploads
}

// authorize runs the authorizer and the rate limiter for q. It writes the
// refusal and returns false when the request must stop.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, reg berth.Registry, q request) (*http.Request, bool) {
	if h.auth == nil {
		return r, true
	}
	nd := need(q, r.Method)
	p, err := h.auth.Authorize(r, reg, nd)
	if err != nil {
		if berth.KindOf(err) == berth.KindUnauthorized {
			w.Header().Set("WWW-Authenticate", h.auth.Challenge(r, reg, nd))
		}
		h.writeError(w, r, err, resRepository)
		return r, false
	}
	if h.limit != nil {
		write := !(r.Method == http.MethodGet || r.Method == http.MethodHead)
		ok, retry, err := h.limit.Allow(r.Context(), reg, p, write)
		if err != nil {
			h.writeError(w, r, err, resRepository)
			return r, false
		}
		if !ok {
			secs := int64((retry + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", itoa(max(secs, 1)))
			writeAPIError(w, r, apiError(http.StatusTooManyRequests, CodeTooManyRequests,
				"rate limit of registry "+quote(reg.Name)+" for "+p.String()+" exceeded; retry after "+itoa(max(secs, 1))+"s"))
			return r, false
		}
	}
	return r.WithContext(&principalCtx{Context: r.Context(), p: p}), true
}
