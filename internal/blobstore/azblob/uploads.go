package azblob

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// WriteUpload writes r into upload id of the registry at offset, discarding
// whatever the upload held at or past offset, and returns the number of bytes
// written. The bytes are staged as blocks and become the upload's content in
// one Put Block List when r is drained; when the error is nil they are on the
// service's stable storage.
//
// The upload is created by a write at offset 0. Writing at an offset past the
// upload's current size (or past 0 for an upload that does not exist) is
// KindInvalid and changes nothing. When r fails part-way, the upload keeps
// the content it had before the call, and WriteUpload returns the bytes
// staged so far and an error that wraps r's error: it keeps the kind of an
// *berth.Error from r and is KindInvalid otherwise. The caller retries from
// its last acknowledged offset. When another writer changed the upload
// during the call, the error is KindConflict and the upload keeps the other
// writer's content.
func (s *Store) WriteUpload(ctx context.Context, registry, id string, offset int64, r io.Reader) (int64, error) {
	const op = "azblob.WriteUpload"
	if err := checkUpload(op, registry, id); err != nil {
		return 0, err
	}
	if offset < 0 {
		return 0, berth.E(op, berth.KindInvalid, "cannot write upload %s at negative offset %d", id, offset)
	}
	if err := ctxError(op, ctx); err != nil {
		return 0, err
	}
	c := s.upload(registry, id)
	st, err := readState(ctx, c)
	if err != nil {
		return 0, writeError(op, registry, id, err)
	}
	if st.size < offset {
		return 0, berth.E(op, berth.KindInvalid, "upload %s has %d bytes; cannot write at offset %d", id, st.size, offset)
	}
	ids, err := keep(ctx, c, st, offset)
	if err != nil {
		return 0, writeError(op, registry, id, err)
	}
	ids, n, err := stageAll(ctx, c, ids, r)
	if err != nil {
		var re *readErr
		if errors.As(err, &re) {
			return n, readError(op, id, re.err)
		}
		return n, writeError(op, registry, id, err)
	}
	if _, err := commitList(ctx, c, ids, st); err != nil {
		return n, writeError(op, registry, id, err)
	}
	return n, nil
}

// writeError describes a failure to change upload id. A changed ETag, a
// block list that names blocks which are gone (a concurrent commit discards
// every block it does not name) and an upload that vanished all mean that
// another writer got there first: KindConflict.
func writeError(op, registry, id string, err error) error {
	if errors.Is(err, errChanged) || bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.BlobAlreadyExists, bloberror.InvalidBlockList, bloberror.BlobNotFound) {
		return berth.E(op, berth.KindConflict, "upload %s of registry %q was changed by another writer; retry from the last acknowledged offset", id, registry)
	}
	if bloberror.HasCode(err, bloberror.BlockCountExceedsLimit) {
		return berth.E(op, berth.KindTooLarge, "upload %s of registry %q has too many chunks for one blob; write larger chunks", id, registry)
	}
	return uploadError(op, registry, id, err)
}

// readError describes a failure of the reader that WriteUpload copies from.
func readError(op, id string, err error) error {
	var be *berth.Error
	switch {
	case errors.As(err, &be):
		return berth.E(op, be.Kind, "reading data for upload %s: %w", id, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return berth.E(op, berth.KindUnavailable, "reading data for upload %s: %w", id, err)
	default:
		return berth.E(op, berth.KindInvalid, "reading data for upload %s: %w", id, err)
	}
}

// ReadUpload opens the first size bytes of upload id with a ranged download;
// the caller must close the reader. It is KindNotFound when the upload does
// not exist and KindInvalid when it holds fewer than size bytes. Reading
// fails rather than mixing contents when the upload is rewritten meanwhile.
func (s *Store) ReadUpload(ctx context.Context, registry, id string, size int64) (io.ReadCloser, error) {
	const op = "azblob.ReadUpload"
	if err := checkUpload(op, registry, id); err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, berth.E(op, berth.KindInvalid, "cannot read a negative number of bytes (%d) of upload %s", size, id)
	}
	if err := ctxError(op, ctx); err != nil {
		return nil, err
	}
	c := s.upload(registry, id)
	props, err := c.GetProperties(ctx, nil)
	if err != nil {
		return nil, uploadError(op, registry, id, err)
	}
	have := int64(0)
	if props.ContentLength != nil {
		have = *props.ContentLength
	}
	if have < size {
		return nil, berth.E(op, berth.KindInvalid, "upload %s has %d bytes; cannot read %d", id, have, size)
	}
	if size == 0 {
		return http.NoBody, nil
	}
	resp, err := c.DownloadStream(ctx, &blob.DownloadStreamOptions{
		Range:            blob.HTTPRange{Count: size},
		AccessConditions: ifMatch(props.ETag),
	})
	if err != nil {
		return nil, uploadError(op, registry, id, err)
	}
	return resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: downloadRetries}), nil
}

// CommitUpload makes the first size bytes of upload id the blob dgst of the
// registry and removes the upload; the caller has verified the digest. When
// the blob already exists the upload is removed and the blob keeps its
// content.
//
// The bytes never pass through the node: the upload is cut down to size
// bytes and copied into the blob's name by the service, on condition that
// no blob of that name exists. A blob exists for readers only once its copy
// has succeeded, so a crash leaves either no blob or the whole blob. When
// another commit of the same digest is under way, CommitUpload waits for it
// to finish. It is KindNotFound when the upload does not exist and
// KindInvalid when it holds fewer than size bytes; in both cases no blob
// becomes visible and the upload is left as it was. It is KindConflict when
// the upload is rewritten during the commit or a concurrent copy of the same
// blob failed; the caller may retry.
func (s *Store) CommitUpload(ctx context.Context, registry, id string, size int64, dgst digest.Digest) error {
	const op = "azblob.CommitUpload"
	if err := checkUpload(op, registry, id); err != nil {
		return err
	}
	if err := checkDigest(op, dgst); err != nil {
		return err
	}
	if size < 0 {
		return berth.E(op, berth.KindInvalid, "cannot commit a negative size (%d) of upload %s", size, id)
	}
	if err := ctxError(op, ctx); err != nil {
		return err
	}
	dst, src := s.blob(registry, dgst), s.upload(registry, id)
	done, err := settle(ctx, dst)
	if err != nil {
		return commitError(op, registry, id, dgst, err)
	}
	if done {
		return s.removeUpload(ctx, op, registry, id)
	}

	st, err := readState(ctx, src)
	if err != nil {
		return writeError(op, registry, id, err)
	}
	if !st.exists {
		return s.commitRace(ctx, op, registry, id, dgst, dst)
	}
	if st.size < size {
		return berth.E(op, berth.KindInvalid, "upload %s has %d bytes; cannot commit %d bytes as blob %s", id, st.size, size, dgst)
	}
	if st.size > size {
		ids, err := keep(ctx, src, st, size)
		if err == nil {
			st.etag, err = commitList(ctx, src, ids, st)
		}
		if err != nil {
			return writeError(op, registry, id, err)
		}
	}

	resp, err := dst.StartCopyFromURL(ctx, src.URL(), &blob.StartCopyFromURLOptions{
		AccessConditions:               &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to(azcore.ETagAny)}},
		SourceModifiedAccessConditions: &blob.SourceModifiedAccessConditions{SourceIfMatch: &st.etag},
	})
	switch {
	case err == nil && visible(resp.CopyStatus):
	case err == nil, bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet):
		// The copy is still running, or another commit of the same digest
		// got there first: wait for the blob to settle.
		done, err := settle(ctx, dst)
		if err != nil {
			return commitError(op, registry, id, dgst, err)
		}
		if !done {
			return berth.E(op, berth.KindConflict, "committing upload %s of registry %q as blob %s: %w; retry", id, registry, dgst, errCopyFailed)
		}
	case bloberror.HasCode(err, bloberror.SourceConditionNotMet):
		return berth.E(op, berth.KindConflict, "upload %s of registry %q was changed by another writer during its commit", id, registry)
	case bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.CannotVerifyCopySource):
		return s.commitRace(ctx, op, registry, id, dgst, dst)
	default:
		return commitError(op, registry, id, dgst, err)
	}
	return s.removeUpload(ctx, op, registry, id)
}

// commitError describes a failure to copy upload id into blob dgst.
func commitError(op, registry, id string, dgst digest.Digest, err error) error {
	return berth.E(op, kindOf(err), "committing upload %s of registry %q as blob %s: %w", id, registry, dgst, short(err))
}

// commitRace handles an upload that vanished during a commit: another commit
// of the same upload may have copied it into place, which is success.
func (s *Store) commitRace(ctx context.Context, op, registry, id string, dgst digest.Digest, dst *blockblob.Client) error {
	if done, err := settle(ctx, dst); err == nil && done {
		return nil
	}
	return berth.E(op, berth.KindNotFound, "upload %s not found in registry %q", id, registry)
}

// AbortUpload removes upload id and its bytes; removing an upload that does
// not exist is not an error.
func (s *Store) AbortUpload(ctx context.Context, registry, id string) error {
	const op = "azblob.AbortUpload"
	if err := checkUpload(op, registry, id); err != nil {
		return err
	}
	if err := ctxError(op, ctx); err != nil {
		return err
	}
	return s.removeUpload(ctx, op, registry, id)
}

func (s *Store) removeUpload(ctx context.Context, op, registry, id string) error {
	_, err := s.upload(registry, id).Delete(ctx, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return berth.E(op, kindOf(err), "removing upload %s of registry %q: %w", id, registry, short(err))
	}
	return nil
}

func ifMatch(etag *azcore.ETag) *blob.AccessConditions {
	return &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: etag}}
}

func to[T any](v T) *T { return &v }
