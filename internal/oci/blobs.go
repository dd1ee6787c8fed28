package oci

import (
	"errors"
	"io"
	"net/http"

	"github.com/opencontainers/go-digest"
)

// parseDigest validates a digest from a URL or query. It accepts the
// algorithms berth can verify (sha256, sha512).
func parseDigest(s string) (digest.Digest, *Error) {
	d := digest.Digest(s)
	if err := d.Validate(); err != nil {
		return "", apiError(http.StatusBadRequest, CodeDigestInvalid, "invalid digest "+quote(s)+": "+err.Error())
	}
	if a := d.Algorithm(); a != digest.SHA256 && a != digest.SHA512 {
		return "", apiError(http.StatusBadRequest, CodeDigestInvalid, "digest algorithm "+quote(string(a))+" is not supported; use sha256 or sha512")
	}
	return d, nil
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
