package oci

import (
	"context"
	"io"
	"net/http"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// blobPutter is the optional capability of a BlobStore to store a whole
// blob that arrives in one request, more cheaply than as an upload followed
// by a commit. PutBlob reads r to its end, calls check once it has, and
// makes the bytes blob d only when check returns nil; check's error is
// returned as it is.
type blobPutter interface {
	PutBlob(ctx context.Context, registry string, d digest.Digest, r io.Reader, check func(size int64) error) (int64, error)
}

// uploadLinker is the optional capability of a Store to link a blob to a
// repository and close the upload session that made it in one transaction.
type uploadLinker interface {
	LinkUploadedBlob(ctx context.Context, registry, repo string, d digest.Digest, size int64, uploadID string) error
}

// checkDigest returns DIGEST_INVALID unless the content's digest got is the
// digest want the client gave.
func checkDigest(want, got digest.Digest) error {
	if got == want {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeDigestInvalid,
		Message: "uploaded content has digest " + got.String() + ", not the " + want.String() + " given",
		Detail:  map[string]string{"digest": want.String()}}
}

// putWhole stores the body of a PUT that carries a whole blob d for a
// session that holds no bytes yet, straight as the blob, when the blob
// store can. whole reports whether it applied; when it did not, nothing
// was read.
func (h *Handler) putWhole(r *http.Request, q request, u session, d digest.Digest) (n int64, whole bool, err error) {
	p, ok := h.blobs.(blobPutter)
	if !ok || u.Offset != 0 || r.ContentLength == 0 || r.Header.Get("Content-Range") != "" {
		return 0, false, nil
	}
	n, err = putChecked(r, q, p, d)
	if err == nil && u.recorded {
		// Bytes of an earlier failed chunk of this session, if any; a
		// session without record never wrote any.
		h.blobs.AbortUpload(context.WithoutCancel(r.Context()), q.registry, u.ID)
	}
	return n, true, err
}

// putChecked stores the request body as blob d with p, which makes it
// visible only when its content has digest d (DIGEST_INVALID otherwise).
func putChecked(r *http.Request, q request, p blobPutter, d digest.Digest) (int64, error) {
	hasher := d.Algorithm().Hash()
	return p.PutBlob(r.Context(), q.registry, d, io.TeeReader(r.Body, hasher), func(int64) error {
		return checkDigest(d, digest.NewDigest(d.Algorithm(), hasher))
	})
}

// linkUpload links blob d, made by upload session id, to repository q.name
// and closes the session.
func (h *Handler) linkUpload(ctx context.Context, q request, d digest.Digest, size int64, id string) error {
	if l, ok := h.meta.(uploadLinker); ok {
		return l.LinkUploadedBlob(ctx, q.registry, q.name, d, size, id)
	}
	if err := h.meta.LinkBlob(ctx, q.registry, q.name, d, size); err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	if err := h.meta.CloseUpload(ctx, berth.Upload{ID: id, Registry: q.registry, Repository: q.name}); err != nil {
		h.log.WarnContext(ctx, "upload session not closed", "upload", id, "err", err)
	}
	return nil
}
