package oci

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"berth/internal/berth"
)

// Page sizes of the listing endpoints.
const (
	defaultTagPage     = 100_000 // tags returned when the client gives no n
	defaultCatalogPage = 1000
	maxPage            = 100_000
)

// pageParams reads n and last. n < 0 means "not given".
func pageParams(r *http.Request) (n int, last string, ae *Error) {
	q := r.URL.Query()
	last = q.Get("last")
	n = -1
	if s := q.Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return 0, "", apiError(http.StatusBadRequest, CodePaginationNumberInvalid, "n must be a non-negative integer, not "+quote(s))
		}
		n = min(v, maxPage)
	}
	return n, last, nil
}

// list writes a page of names: fetch asks for up to limit names after last.
// A Link header points to the next page when there may be one.
func (h *Handler) list(w http.ResponseWriter, r *http.Request, field, name string, def int, res resource,
	fetch func(last string, limit int) ([]string, error)) {
	n, last, ae := pageParams(r)
	if ae != nil {
		writeAPIError(w, r, ae)
		return
	}
	if n < 0 {
		n = def
	}
	got, err := fetch(last, n+1)
	if err != nil {
		h.writeError(w, r, err, res)
		return
	}
	if len(got) > n {
		got = got[:n]
		if n > 0 {
			next := url.Values{"n": {strconv.Itoa(n)}, "last": {got[n-1]}}
			w.Header().Set("Link", "<"+r.URL.Path+"?"+next.Encode()+`>; rel="next"`)
		}
	}
	items := append([]string{}, got...)
	body := map[string]any{field: items}
	if name != "" {
		body["name"] = name
	}
	writeJSON(w, r, "application/json", body)
}

func (h *Handler) listTags(w http.ResponseWriter, r *http.Request, q request) {
	h.list(w, r, "tags", q.name, defaultTagPage, resRepository, func(last string, limit int) ([]string, error) {
		return h.meta.Tags(r.Context(), q.registry, q.name, last, limit)
	})
}

// catalog lists the registry's repositories that the caller may see: with
// an Authorizer that can filter (see RepositoryFilter), only those it may
// pull from or read metadata of.
func (h *Handler) catalog(w http.ResponseWriter, r *http.Request, q request) {
	fetch := func(last string, limit int) ([]string, error) {
		return h.meta.Repositories(r.Context(), q.registry, last, limit)
	}
	if rf, ok := h.auth.(RepositoryFilter); ok {
		p, _ := PrincipalFrom(r.Context())
		visible, err := rf.RepositoryFilter(r.Context(), q.reg, p)
		if err != nil {
			h.writeError(w, r, err, resRepository)
			return
		}
		fetch = filtered(fetch, visible)
	}
	h.list(w, r, "repositories", "", defaultCatalogPage, resRepository, fetch)
}

// RepositoryFilter is an optional capability of an Authorizer: it says
// which repositories a principal may see in the catalog.
type RepositoryFilter interface {
	RepositoryFilter(ctx context.Context, reg berth.Registry, p berth.Principal) (func(repo string) bool, error)
}

// filtered wraps a page fetcher so that it returns only names keep accepts,
// reading further pages until it has limit names or the list ends.
func filtered(fetch func(last string, limit int) ([]string, error), keep func(string) bool) func(string, int) ([]string, error) {
	return func(last string, limit int) ([]string, error) {
		out := []string{}
		for len(out) < limit {
			page, err := fetch(last, limit)
			if err != nil {
				return nil, err
			}
			for _, name := range page {
				if keep(name) && len(out) < limit {
					out = append(out, name)
				}
			}
			if len(page) < limit {
				break
			}
			last = page[len(page)-1]
		}
		return out, nil
	}
}

// referrers answers the referrers API with an image index of the manifests
// whose subject is the given digest, optionally filtered by artifactType.
func (h *Handler) referrers(w http.ResponseWriter, r *http.Request, q request) {
	d, ae := parseDigest(q.ref)
	if ae != nil {
		writeAPIError(w, r, ae)
		return
	}
	at := r.URL.Query().Get("artifactType")
	descs, err := h.meta.Referrers(r.Context(), q.registry, q.name, d, at)
	if err != nil {
		h.writeError(w, r, err, resManifest)
		return
	}
	if descs == nil {
		descs = []berth.Descriptor{}
	}
	if at != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	writeJSON(w, r, v1.MediaTypeImageIndex, map[string]any{
		"schemaVersion": 2,
		"mediaType":     v1.MediaTypeImageIndex,
		"manifests":     descs,
	})
}

func writeJSON(w http.ResponseWriter, r *http.Request, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeAPIError(w, r, apiError(http.StatusInternalServerError, "INTERNAL_ERROR", "encoding response: "+err.Error()))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
