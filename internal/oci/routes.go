package oci

import (
	"context"
	"log/slog"
	"net/http"

	"berth/internal/berth"
)

// HostResolver picks the registry a request is for from its Host header.
// It returns KindNotFound when no registry answers for host.
type HostResolver interface {
	ResolveHost(ctx context.Context, host string) (berth.Registry, error)
}

// Store is what the API needs of the metadata store.
type Store interface {
	berth.BlobIndex
	berth.ManifestStore
	berth.UploadStore
}

// Deps are what the API is built on. Hosts, Meta, Blobs and Log are
// required. With a nil Auth every request is allowed (and anonymous); with
// a nil Limit nothing is rate limited; without Locators every blob is
// streamed by the handler itself.
type Deps struct {
	Hosts HostResolver
	Meta  Store
	Blobs berth.BlobStore
	Auth  Authorizer
	Limit Limiter
	// Locators are asked in order where a blob should be downloaded from;
	// the first URL wins (see BlobLocator).
	Locators []BlobLocator
	Log      *slog.Logger
}

// Handler serves /v2/ for every registry of the node.
type Handler struct {
	hosts  HostResolver
	meta   Store
	blobs  berth.BlobStore
	auth   Authorizer
	limit  Limiter
	locate []BlobLocator
	log    *slog.Logger
	// sessions serializes the requests of one upload session on this node,
	// so that two writers cannot interleave their bytes in its file.
	sessions sessionLocks
}

// NewHandler returns the /v2/ API over d.
func NewHandler(d Deps) *Handler {
	return &Handler{hosts: d.Hosts, meta: d.Meta, blobs: d.Blobs, auth: d.Auth, limit: d.Limit, locate: d.Locators, log: d.Log}
}

// request is one parsed API call.
type request struct {
	registry string
	reg      berth.Registry
	target
}

// ServeHTTP routes a /v2/ request. The whole API surface is listed here.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	t := parsePath(r.URL.Path)
	if t.route == routeInvalid {
		writeAPIError(w, r, apiError(http.StatusNotFound, CodeNameInvalid, "no API endpoint at "+r.URL.Path))
		return
	}
	reg, err := h.hosts.ResolveHost(r.Context(), r.Host)
	if err != nil {
		h.writeError(w, r, err, resRepository)
		return
	}
	q := request{registry: reg.Name, reg: reg, target: t}
	if t.route != routeBase && t.route != routeCatalog && !berth.ValidRepository(t.name) {
		writeAPIError(w, r, apiError(http.StatusBadRequest, CodeNameInvalid,
			"invalid repository name "+quote(t.name)+": use lowercase path components of a-z, 0-9 and separators . _ __ -"))
		return
	}
	r, ok := h.authorize(w, r, reg, q)
	if !ok {
		return
	}
	m := r.Method
	get := m == http.MethodGet || m == http.MethodHead
	switch {
	case t.route == routeBase && get:
		h.base(w, r)
	case t.route == routeCatalog && get:
		h.catalog(w, r, q)
	case t.route == routeManifest && get:
		h.getManifest(w, r, q)
	case t.route == routeManifest && m == http.MethodPut:
		h.putManifest(w, r, q)
	case t.route == routeManifest && m == http.MethodDelete:
		h.deleteManifest(w, r, q)
	case t.route == routeBlob && get:
		h.getBlob(w, r, q)
	case t.route == routeBlob && m == http.MethodDelete:
		h.deleteBlob(w, r, q)
	case t.route == routeUploads && m == http.MethodPost:
		h.startUpload(w, r, q)
	case t.route == routeUpload && m == http.MethodGet:
		h.uploadStatus(w, r, q)
	case t.route == routeUpload && m == http.MethodPatch:
		h.patchUpload(w, r, q)
	case t.route == routeUpload && m == http.MethodPut:
		h.finishUpload(w, r, q)
	case t.route == routeUpload && m == http.MethodDelete:
		h.cancelUpload(w, r, q)
	case t.route == routeTags && get:
		h.listTags(w, r, q)
	case t.route == routeReferrers && get:
		h.referrers(w, r, q)
	default:
		w.Header().Set("Allow", allowed(t.route))
		writeAPIError(w, r, apiError(http.StatusMethodNotAllowed, CodeUnsupported,
			"method "+m+" is not supported on "+r.URL.Path))
	}
}

func allowed(rt route) string {
	switch rt {
	case routeManifest:
		return "GET, HEAD, PUT, DELETE"
	case routeBlob:
		return "GET, HEAD, DELETE"
	case routeUploads:
		return "POST"
	case routeUpload:
		return "GET, PATCH, PUT, DELETE"
	}
	return "GET, HEAD"
}

func (h *Handler) base(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write([]byte("{}"))
	}
}
