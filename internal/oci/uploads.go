package oci

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"time"

	"berth/internal/berth"

	"github.com/opencontainers/go-digest"
)

// startUpload answers POST /v2/<name>/blobs/uploads/: a cross-repository
// mount, a monolithic upload (?digest= with the body), or a new session.
func (h *Handler) startUpload(w http.ResponseWriter, r *http.Request, q request) {
	query := r.URL.Query()
	if m := query.Get("mount"); m != "" {
		if d, ae := parseDigest(m); ae == nil && h.mount(w, r, q, d, query.Get("from")) {
			return
		}
		// The spec's fallback: an ordinary upload session.
	} else if ds := query.Get("digest"); ds != "" {
		h.monolithicUpload(w, r, q, ds)
		return
	}
	// The session gets a record with its first bytes; see sessionid.go.
	u := berth.Upload{ID: newSessionID(q.registry, q.name, time.Now()), Registry: q.registry, Repository: q.name}
	writeUploadState(w, q.name, u, http.StatusAccepted)
}

// mount links blob d into q.name when the source repository holds it and
// the caller may pull from it, and reports whether it answered. Without
// from, any repository of the registry may be the source, for callers that
// may read every repository (the admin user and the operator).
func (h *Handler) mount(w http.ResponseWriter, r *http.Request, q request, d digest.Digest, from string) bool {
	var size int64
	var err error
	switch {
	case from == "" && h.mayReadAll(r):
		size, err = h.meta.RegistryBlob(r.Context(), q.registry, d)
	case from != "" && berth.ValidRepository(from) && h.mayPull(r, q, from):
		size, err = h.meta.Blob(r.Context(), q.registry, from, d)
	default:
		return false
	}
	if berth.IsNotFound(err) {
		return false
	}
	if err == nil {
		err = h.meta.LinkBlob(r.Context(), q.registry, q.name, d, size)
	}
	if err != nil {
		h.writeError(w, r, err, resBlob)
		return true
	}
	writeBlobCreated(w, q.name, d)
	return true
}

// mayPull reports whether the caller may pull from repository repo.
func (h *Handler) mayPull(r *http.Request, q request, repo string) bool {
	if h.auth == nil {
		return true
	}
	_, err := h.auth.Authorize(r, q.reg, []berth.Access{{Type: "repository", Name: repo, Actions: []string{berth.ActionPull}}})
	return err == nil
}

// mayReadAll reports whether the caller may read every repository.
func (h *Handler) mayReadAll(r *http.Request) bool {
	if h.auth == nil {
		return true
	}
	p, _ := PrincipalFrom(r.Context())
	return p.Kind == berth.PrincipalAdmin || p.Kind == berth.PrincipalOperator
}

// monolithicUpload stores the request body as blob ds in one request.
func (h *Handler) monolithicUpload(w http.ResponseWriter, r *http.Request, q request, ds string) {
	d, ae := parseDigest(ds)
	if ae != nil {
		writeAPIError(w, r, ae)
		return
	}
	var err error
	if p, ok := h.blobs.(blobPutter); ok {
		var n int64
		if n, err = putChecked(r, q, p, d); err == nil {
			err = h.meta.LinkBlob(r.Context(), q.registry, q.name, d, n)
		}
	} else {
		err = h.writeAndCommit(r, q, d)
	}
	if err != nil {
		h.writeError(w, r, err, resUpload)
		return
	}
	writeBlobCreated(w, q.name, d)
}

// writeAndCommit stores the request body as blob d through an upload of
// its own, for blob stores without PutBlob.
func (h *Handler) writeAndCommit(r *http.Request, q request, d digest.Digest) error {
	id := newUploadID()
	hasher := d.Algorithm().Hash()
	n, err := h.blobs.WriteUpload(r.Context(), q.registry, id, 0, io.TeeReader(r.Body, hasher))
	if err == nil {
		err = checkDigest(d, digest.NewDigest(d.Algorithm(), hasher))
	}
	if err == nil {
		err = h.blobs.CommitUpload(r.Context(), q.registry, id, n, d)
	}
	if err == nil {
		err = h.meta.LinkBlob(r.Context(), q.registry, q.name, d, n)
	}
	if err != nil {
		h.blobs.AbortUpload(context.WithoutCancel(r.Context()), q.registry, id)
	}
	return err
}

// session is an upload session as the API sees it: its state, and whether
// the metadata store has a record of it (one that holds no bytes yet has
// none).
type session struct {
	berth.Upload
	recorded bool
}

// session loads upload session q.ref and checks that it belongs to q.name.
func (h *Handler) session(ctx context.Context, q request) (session, error) {
	unknown := func(why string) (session, error) {
		return session{}, apiError(http.StatusNotFound, CodeBlobUploadUnknown, "upload "+quote(q.ref)+why)
	}
	if berth.CheckUploadID("oci.session", q.ref) != nil {
		return unknown(" not found")
	}
	u, err := h.meta.Upload(ctx, q.registry, q.ref)
	if berth.IsNotFound(err) {
		created, ok := freshSession(q.ref, q.registry, q.name, time.Now())
		if !ok {
			return unknown(" not found in repository " + quote(q.name))
		}
		return session{Upload: berth.Upload{ID: q.ref, Registry: q.registry, Repository: q.name,
			Algorithm: "sha256", CreatedAt: created, UpdatedAt: created}}, nil
	}
	switch {
	case err != nil:
		return session{}, err
	case u.Repository != q.name:
		return unknown(" not found in repository " + quote(q.name))
	case u.Closed:
		return unknown(" is closed: it was completed or cancelled")
	}
	return session{Upload: u, recorded: true}, nil
}

func (h *Handler) uploadStatus(w http.ResponseWriter, r *http.Request, q request) {
	u, err := h.session(r.Context(), q)
	if err != nil {
		h.writeError(w, r, err, resUpload)
		return
	}
	writeUploadState(w, q.name, u.Upload, http.StatusNoContent)
}

func (h *Handler) patchUpload(w http.ResponseWriter, r *http.Request, q request) {
	defer h.sessions.lock(q.registry, q.ref)()
	u, err := h.session(r.Context(), q)
	if err != nil {
		h.writeError(w, r, err, resUpload)
		return
	}
	if _, err := h.appendChunk(r, &u, true); err != nil {
		h.writeChunkError(w, r, q, u.Upload, err)
		return
	}
	writeUploadState(w, q.name, u.Upload, http.StatusAccepted)
}

// finishUpload completes a session: an optional last chunk, then the digest
// check and the commit.
func (h *Handler) finishUpload(w http.ResponseWriter, r *http.Request, q request) {
	defer h.sessions.lock(q.registry, q.ref)()
	u, err := h.session(r.Context(), q)
	if err != nil {
		h.writeError(w, r, err, resUpload)
		return
	}
	ds := r.URL.Query().Get("digest")
	if ds == "" {
		writeAPIError(w, r, apiError(http.StatusBadRequest, CodeDigestInvalid, "the digest query parameter is required to complete an upload"))
		return
	}
	d, ae := parseDigest(ds)
	if ae != nil {
		writeAPIError(w, r, ae)
		return
	}
	n, whole, err := h.putWhole(r, q, u, d)
	if !whole {
		// The session is committed and removed right after this last
		// chunk, so its new offset need not be stored first: a crash
		// before the commit leaves the session at its last stored offset,
		// and a retried PUT rewrites from there.
		hasher, err := h.appendChunk(r, &u, false)
		if err != nil {
			h.writeChunkError(w, r, q, u.Upload, err)
			return
		}
		got, err := h.uploadDigest(r.Context(), u.Upload, hasher, d.Algorithm())
		if err == nil {
			err = checkDigest(d, got)
		}
		if err == nil {
			err = h.blobs.CommitUpload(r.Context(), q.registry, u.ID, u.Offset, d)
		}
		if err != nil {
			h.writeError(w, r, err, resUpload)
			return
		}
		n = u.Offset
	}
	if err == nil {
		err = h.linkUpload(r.Context(), q, d, n, u.ID)
	}
	if err != nil {
		h.writeError(w, r, err, resUpload)
		return
	}
	writeBlobCreated(w, q.name, d)
}

func (h *Handler) cancelUpload(w http.ResponseWriter, r *http.Request, q request) {
	defer h.sessions.lock(q.registry, q.ref)()
	u, err := h.session(r.Context(), q)
	if err == nil {
		err = h.meta.CloseUpload(r.Context(), u.Upload)
	}
	if err != nil {
		h.writeError(w, r, err, resUpload)
		return
	}
	if err := h.blobs.AbortUpload(r.Context(), q.registry, u.ID); err != nil {
		h.log.WarnContext(r.Context(), "upload bytes not removed", "upload", u.ID, "err", err)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

// errRangeMismatch is a chunk that does not start where the upload ends.
type errRangeMismatch struct{ msg string }

func (e *errRangeMismatch) Error() string { return e.msg }

// appendChunk writes the request body at the session's offset, checking
// Content-Range when given, and advances the session (in the store too
// when persist is set). It returns the hash over everything received so far.
func (h *Handler) appendChunk(r *http.Request, u *session, persist bool) (hash.Hash, error) {
	hasher, err := restoreHash(u.Algorithm, u.HashState)
	if err != nil {
		return nil, err
	}
	want := int64(-1)
	if cr := r.Header.Get("Content-Range"); cr != "" {
		start, end, err := parseContentRange(cr)
		if err != nil {
			return nil, &errRangeMismatch{err.Error()}
		}
		if start != u.Offset {
			return nil, &errRangeMismatch{"chunk starts at byte " + itoa(start) + " but the upload has " + itoa(u.Offset) + " bytes; resume at " + itoa(u.Offset)}
		}
		want = end - start + 1
		if r.ContentLength >= 0 && r.ContentLength != want {
			return nil, &errRangeMismatch{"Content-Range announces " + itoa(want) + " bytes but Content-Length is " + itoa(r.ContentLength)}
		}
	}
	if r.ContentLength == 0 && want < 0 {
		return hasher, nil
	}
	n, err := h.blobs.WriteUpload(r.Context(), u.Registry, u.ID, u.Offset, io.TeeReader(r.Body, hasher))
	if err != nil {
		return nil, err
	}
	if want >= 0 && n != want {
		return nil, apiError(http.StatusBadRequest, CodeBlobUploadInvalid,
			"chunk had "+itoa(n)+" bytes but Content-Range announced "+itoa(want))
	}
	from := u.Offset
	u.Offset += n
	if !persist {
		return hasher, nil
	}
	state, err := marshalHash(hasher)
	if err != nil {
		return nil, err
	}
	u.HashState = state
	u.UpdatedAt = time.Now().UTC()
	if err := h.record(r.Context(), u, from); err != nil {
		u.Offset = from
		return nil, err
	}
	return hasher, nil
}

// record stores session u, advanced from offset from: the first record
// of a session that had none, or a compare-and-set on the offset. A writer
// that lost the race gets KindConflict.
func (h *Handler) record(ctx context.Context, u *session, from int64) error {
	if u.recorded {
		return h.meta.AdvanceUpload(ctx, u.Upload, from)
	}
	err := h.meta.CreateUpload(ctx, u.Upload)
	if berth.KindOf(err) == berth.KindExists {
		return berth.E("oci.record", berth.KindConflict, "upload %q was changed by another request; ask for its offset and resume", u.ID)
	}
	u.recorded = err == nil
	return err
}

func (h *Handler) writeChunkError(w http.ResponseWriter, r *http.Request, q request, u berth.Upload, err error) {
	if rm, ok := err.(*errRangeMismatch); ok || berth.KindOf(err) == berth.KindConflict {
		msg := err.Error()
		if ok {
			msg = rm.msg
		}
		setUploadHeaders(w, q.name, u)
		writeAPIError(w, r, apiError(http.StatusRequestedRangeNotSatisfiable, CodeBlobUploadInvalid, msg))
		return
	}
	h.writeError(w, r, err, resUpload)
}

// uploadDigest returns the digest of the upload's content with algorithm alg,
// re-reading the bytes only when the session hashed with another algorithm.
func (h *Handler) uploadDigest(ctx context.Context, u berth.Upload, hasher hash.Hash, alg digest.Algorithm) (digest.Digest, error) {
	if string(alg) == u.Algorithm {
		return digest.NewDigest(alg, hasher), nil
	}
	rc, err := h.blobs.ReadUpload(ctx, u.Registry, u.ID, u.Offset)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	return alg.FromReader(rc)
}

func newUploadID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func restoreHash(alg string, state []byte) (hash.Hash, error) {
	var h hash.Hash
	switch alg {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return nil, berth.E("oci.restoreHash", berth.KindInternal, "upload hashes with unknown algorithm %q", alg)
	}
	if len(state) > 0 {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
			return nil, berth.E("oci.restoreHash", berth.KindInternal, "upload hash state unreadable: %w", err)
		}
	}
	return h, nil
}

func marshalHash(h hash.Hash) ([]byte, error) {
	return h.(encoding.BinaryMarshaler).MarshalBinary()
}

func uploadLocation(name, id string) string { return "/v2/" + name + "/blobs/uploads/" + id }

func setUploadHeaders(w http.ResponseWriter, name string, u berth.Upload) {
	hdr := w.Header()
	hdr.Set("Location", uploadLocation(name, u.ID))
	end := u.Offset - 1
	if end < 0 {
		end = 0
	}
	hdr.Set("Range", "0-"+itoa(end))
	hdr.Set("Docker-Upload-UUID", u.ID)
	hdr.Set("Blob-Upload-Session-ID", u.ID)
}

func writeUploadState(w http.ResponseWriter, name string, u berth.Upload, status int) {
	setUploadHeaders(w, name, u)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

func writeBlobCreated(w http.ResponseWriter, name string, d digest.Digest) {
	hdr := w.Header()
	hdr.Set("Location", "/v2/"+name+"/blobs/"+d.String())
	hdr.Set("Docker-Content-Digest", d.String())
	hdr.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}
