package azblob

import (
	"context"
	"io"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// downloadRetries is how often a reader returned by Get or ReadUpload
// resumes a download that broke off, at the offset where it broke off.
const downloadRetries = 3

// Stat returns the size of blob dgst in the registry. It is KindNotFound when
// the registry holds no such blob (or its copy has not finished) and
// KindInvalid when the registry name or digest is malformed.
func (s *Store) Stat(ctx context.Context, registry string, dgst digest.Digest) (int64, error) {
	const op = "azblob.Stat"
	if err := checkBlob(op, registry, dgst); err != nil {
		return 0, err
	}
	if err := ctxError(op, ctx); err != nil {
		return 0, err
	}
	props, err := s.blob(registry, dgst).GetProperties(ctx, nil)
	if err != nil {
		return 0, blobError(op, registry, dgst, err)
	}
	if !visible(props.CopyStatus) || props.ContentLength == nil {
		return 0, notFound(op, registry, dgst)
	}
	return *props.ContentLength, nil
}

// Get opens blob dgst for reading from offset with a ranged download;
// length < 0 reads to the end. A connection that breaks off is resumed up to
// three times, and only while the blob is unchanged. The caller checks the
// range against Stat first and must close the reader. It is KindNotFound
// when the registry holds no such blob (or its copy has not finished) and
// KindInvalid when a name, the digest or offset is malformed or offset lies
// past the end of the blob.
func (s *Store) Get(ctx context.Context, registry string, dgst digest.Digest, offset, length int64) (io.ReadCloser, error) {
	const op = "azblob.Get"
	if err := checkBlob(op, registry, dgst); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, berth.E(op, berth.KindInvalid, "cannot read blob %s from negative offset %d", dgst, offset)
	}
	if err := ctxError(op, ctx); err != nil {
		return nil, err
	}
	c := s.blob(registry, dgst)
	if length == 0 {
		// A download range cannot be empty; check that the blob exists.
		props, err := c.GetProperties(ctx, nil)
		if err != nil {
			return nil, blobError(op, registry, dgst, err)
		}
		if !visible(props.CopyStatus) {
			return nil, notFound(op, registry, dgst)
		}
		return http.NoBody, nil
	}
	// Count 0 asks the service for everything from Offset on.
	rng := blob.HTTPRange{Offset: offset, Count: max(length, 0)}
	resp, err := c.DownloadStream(ctx, &blob.DownloadStreamOptions{Range: rng})
	if err != nil {
		if kindOf(err) == berth.KindInvalid {
			return nil, berth.E(op, berth.KindInvalid, "cannot read blob %s from offset %d: it is past the end of the blob", dgst, offset)
		}
		return nil, blobError(op, registry, dgst, err)
	}
	if !visible(resp.CopyStatus) {
		resp.Body.Close()
		return nil, notFound(op, registry, dgst)
	}
	return resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: downloadRetries}), nil
}

// Delete removes blob dgst from the registry. It is KindNotFound when the
// registry holds no such blob.
func (s *Store) Delete(ctx context.Context, registry string, dgst digest.Digest) error {
	const op = "azblob.Delete"
	if err := checkBlob(op, registry, dgst); err != nil {
		return err
	}
	if err := ctxError(op, ctx); err != nil {
		return err
	}
	if _, err := s.blob(registry, dgst).Delete(ctx, nil); err != nil {
		return blobError(op, registry, dgst, err)
	}
	return nil
}

// visible reports whether a blob with copy status cs exists for readers: a
// blob that a copy writes exists only once the copy has succeeded.
func visible(cs *blob.CopyStatusType) bool {
	return cs == nil || *cs == "" || *cs == blob.CopyStatusTypeSuccess
}

func notFound(op, registry string, dgst digest.Digest) error {
	return berth.E(op, berth.KindNotFound, "blob %s not found in registry %q", dgst, registry)
}
