package oci

import (
	"errors"
	"strings"

	"berth/internal/berth"
	"io"
	"net/http"

	"github.com/opencontainers/go-digest"
)

// parseDigest validates a digest from a URL or query. It accepts the
// algorithms berth can verify (sha256, sha512).
func parseDigest(s string) (digest.Digest, *Error) {
	if canonicalDigest(s) {
		return digest.Digest(s), nil
	}
	d := digest.Digest(s)
	if err := d.Validate(); err != nil {
		return "", apiError(http.StatusBadRequest, CodeDigestInvalid, "invalid digest "+quote(s)+": "+err.Error())
	}
	if a := d.Algorithm(); a != digest.SHA256 && a != digest.SHA512 {
		return "", apiError(http.StatusBadRequest, CodeDigestInvalid, "digest algorithm "+quote(string(a))+" is not supported; use sha256 or sha512")
	}
	return d, nil
}

// canonicalDigest reports whether s is a sha256 or sha512 digest in the
// canonical form (lowercase hex of the full length), which every client
// sends; parseDigest then needs no regular expression.
func canonicalDigest(s string) bool {
	var hexLen int
	switch {
	case strings.HasPrefix(s, "sha256:"):
		s, hexLen = s[len("sha256:"):], 64
	case strings.HasPrefix(s, "sha512:"):
		s, hexLen = s[len("sha512:"):], 128
	default:
		return false
	}
	if len(s) != hexLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// getBlob serves GET and HEAD of a blob, with a single byte range.
func (h *Handler) getBlob(w http.ResponseWriter, r *http.Request, q request) {
	d, ae := parseDigest(q.ref)
	if ae != nil {
		writeAPIError(w, r, ae)
		return
	}
	size, err := h.meta.Blob(r.Context(), q.registry, q.name, d)
	if err != nil {
		h.writeError(w, r, err, resBlob)
		return
	}
	hdr := w.Header()
	hdr.Set("Docker-Content-Digest", d.String())
	if url, err := h.blobURL(r, q, d); err != nil || url != "" {
		if err != nil {
			h.writeError(w, r, err, resBlob)
			return
		}
		hdr.Set("Location", url)
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("Content-Length", "0")
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	hdr.Set("ETag", `"`+d.String()+`"`)
	hdr.Set("Accept-Ranges", "bytes")
	hdr.Set("Cache-Control", "max-age=31536000")
	hdr.Set("Content-Type", "application/octet-stream")
	if match := r.Header.Get("If-None-Match"); match != "" && (match == `"`+d.String()+`"` || match == d.String()) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	offset, length, partial, err := parseRange(r.Header.Get("Range"), size)
	if errors.Is(err, errRangeUnsatisfiable) {
		hdr.Set("Content-Range", "bytes */"+itoa(size))
		writeAPIError(w, r, apiError(http.StatusRequestedRangeNotSatisfiable, CodeRangeInvalid,
			"range "+quote(r.Header.Get("Range"))+" is outside blob of "+itoa(size)+" bytes"))
		return
	}
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		hdr.Set("Content-Range", "bytes "+itoa(offset)+"-"+itoa(offset+length-1)+"/"+itoa(size))
	}
	hdr.Set("Content-Length", itoa(length))
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	n := int64(-1)
	if partial {
		n = length
	}
	body, err := h.blobs.Get(r.Context(), q.registry, d, offset, n)
	if err != nil {
		hdr.Del("Content-Length")
		h.writeError(w, r, err, resBlob)
		return
	}
	defer body.Close()
	w.WriteHeader(status)
	if _, err := io.Copy(w, body); err != nil {
		h.log.DebugContext(r.Context(), "blob body not fully sent", "digest", d, "err", err)
	}
}

// BlobLocator decides where a client downloads a blob from: a dedicated
// data endpoint, or a storage service's own signed URL. It returns "" when
// the handler should stream the blob itself. It is asked only after the
// request was authorized and the blob found in the repository.
type BlobLocator interface {
	BlobURL(r *http.Request, reg berth.Registry, repo string, d digest.Digest, p berth.Principal) (string, error)
}

// blobURL asks the locators in order and returns the first URL, or "".
func (h *Handler) blobURL(r *http.Request, q request, d digest.Digest) (string, error) {
	if len(h.locate) == 0 {
		return "", nil
	}
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		p = berth.Principal{Kind: berth.PrincipalAnonymous, Registry: q.registry}
	}
	for _, l := range h.locate {
		url, err := l.BlobURL(r, q.reg, q.name, d, p)
		if err != nil || url != "" {
			return url, err
		}
	}
	return "", nil
}

// deleteBlob removes a blob from a repository. The bytes stay in storage
// until garbage collection finds no repository or upload that needs them.
func (h *Handler) deleteBlob(w http.ResponseWriter, r *http.Request, q request) {
	d, ae := parseDigest(q.ref)
	if ae != nil {
		writeAPIError(w, r, ae)
		return
	}
	if err := h.meta.UnlinkBlob(r.Context(), q.registry, q.name, d); err != nil {
		h.writeError(w, r, err, resBlob)
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
}
