package oci

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"berth/internal/berth"

	"github.com/opencontainers/go-digest"
)

// resolve turns a manifest reference (tag or digest) into a digest.
func (h *Handler) resolve(r *http.Request, q request) (digest.Digest, error) {
	if strings.ContainsRune(q.ref, ':') {
		d, ae := parseDigest(q.ref)
		if ae != nil {
			return "", ae
		}
		return d, nil
	}
	if !validTag(q.ref) {
		return "", apiError(http.StatusBadRequest, CodeTagInvalid, "invalid tag "+quote(q.ref)+": use up to 128 of a-z A-Z 0-9 _ . - not starting with . or -")
	}
	return h.meta.Tag(r.Context(), q.registry, q.name, q.ref)
}

// getManifest serves GET and HEAD of a manifest by tag or digest.
func (h *Handler) getManifest(w http.ResponseWriter, r *http.Request, q request) {
	d, err := h.resolve(r, q)
	if err != nil {
		h.writeError(w, r, err, resManifest)
		return
	}
	m, err := h.meta.Manifest(r.Context(), q.registry, q.name, d)
	if err != nil {
		h.writeError(w, r, err, resManifest)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", m.MediaType)
	hdr.Set("Content-Length", itoa(m.Size()))
	hdr.Set("Docker-Content-Digest", d.String())
	hdr.Set("ETag", `"`+d.String()+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(m.Payload)
	}
}

// putManifest stores a manifest under a tag or its digest once every blob
// and child manifest it references is in the repository.
func (h *Handler) putManifest(w http.ResponseWriter, r *http.Request, q request) {
	var tag string
	var want digest.Digest
	if strings.ContainsRune(q.ref, ':') {
		d, ae := parseDigest(q.ref)
		if ae != nil {
			writeAPIError(w, r, ae)
			return
		}
		want = d
	} else if validTag(q.ref) {
		tag = q.ref
	} else {
		writeAPIError(w, r, apiError(http.StatusBadRequest, CodeTagInvalid, "invalid tag "+quote(q.ref)+": use up to 128 of a-z A-Z 0-9 _ . - not starting with . or -"))
		return
	}
	if r.ContentLength > MaxManifestSize {
		writeAPIError(w, r, tooLarge(r.ContentLength))
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, MaxManifestSize+1))
	if err != nil {
		writeAPIError(w, r, apiError(http.StatusBadRequest, CodeManifestInvalid, "reading manifest: "+err.Error()))
		return
	}
	if len(payload) > MaxManifestSize {
		writeAPIError(w, r, tooLarge(int64(len(payload))))
		return
	}
	m, err := parseManifest(r.Header.Get("Content-Type"), payload)
	if err != nil {
		h.writeError(w, r, err, resManifest)
		return
	}
	alg := digest.Canonical
	if want != "" {
		alg = want.Algorithm()
	}
	m.Digest = alg.FromBytes(payload)
	if want != "" && m.Digest != want {
		writeAPIError(w, r, &Error{Status: http.StatusBadRequest, Code: CodeDigestInvalid,
			Message: "manifest has digest " + m.Digest.String() + ", not the " + want.String() + " in the URL",
			Detail:  map[string]string{"digest": want.String()}})
		return
	}
	m.CreatedAt = time.Now().UTC()
	if err := h.meta.PutManifest(r.Context(), q.registry, q.name, m, tag); err != nil {
		h.writeError(w, r, err, resManifest)
		return
	}
	hdr := w.Header()
	hdr.Set("Location", "/v2/"+q.name+"/manifests/"+m.Digest.String())
	hdr.Set("Docker-Content-Digest", m.Digest.String())
	if m.Subject != "" {
		hdr.Set("OCI-Subject", m.Subject.String())
	}
	hdr.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

func tooLarge(n int64) *Error {
	return apiError(http.StatusRequestEntityTooLarge, CodeSizeInvalid,
		"manifest of "+itoa(n)+" bytes exceeds the limit of "+itoa(MaxManifestSize)+" bytes")
}

// deleteManifest deletes a manifest by digest (with its tags), or only a tag.
func (h *Handler) deleteManifest(w http.ResponseWriter, r *http.Request, q request) {
	var err error
	if strings.ContainsRune(q.ref, ':') {
		d, ae := parseDigest(q.ref)
		if ae != nil {
			writeAPIError(w, r, ae)
			return
		}
		err = h.meta.DeleteManifest(r.Context(), q.registry, q.name, d)
	} else if validTag(q.ref) {
		err = h.meta.DeleteTag(r.Context(), q.registry, q.name, q.ref)
	} else {
		err = apiError(http.StatusBadRequest, CodeTagInvalid, "invalid tag "+quote(q.ref))
	}
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) && berth.IsNotFound(err) {
			err = apiError(http.StatusNotFound, CodeManifestUnknown, berth.Message(err))
		}
		h.writeError(w, r, err, resManifest)
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
}
