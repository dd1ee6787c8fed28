package azblob

import (
	"context"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// SignedURL returns a service SAS URL that lets anyone who holds it read
// blob dgst of the registry, and nothing else, for ttl (the store's SAS
// lifetime when ttl <= 0). The URL grants the read permission only, names
// exactly that blob and allows plain HTTP only when the store's service URL
// is plain HTTP. It is signed locally and does not check that the blob
// exists. It is KindInvalid when the registry name or digest is malformed.
func (s *Store) SignedURL(ctx context.Context, registry string, dgst digest.Digest, ttl time.Duration) (string, error) {
	const op = "azblob.SignedURL"
	if err := checkBlob(op, registry, dgst); err != nil {
		return "", err
	}
	if err := ctxError(op, ctx); err != nil {
		return "", err
	}
	if ttl <= 0 {
		ttl = s.sasTTL
	}
	protocol := sas.ProtocolHTTPS
	if !s.https {
		protocol = sas.ProtocolHTTPSandHTTP
	}
	name := blobName(registry, dgst)
	q, err := sas.BlobSignatureValues{
		Protocol:      protocol,
		ExpiryTime:    time.Now().UTC().Add(ttl),
		Permissions:   (&sas.BlobPermissions{Read: true}).String(),
		ContainerName: s.bucket,
		BlobName:      name,
	}.SignWithSharedKey(s.cred)
	if err != nil {
		return "", berth.E(op, berth.KindInternal, "signing a URL for blob %s of registry %q: %w", dgst, registry, err)
	}
	// The name is left unescaped: every character of it is safe in a path.
	u := s.public.JoinPath(s.bucket, name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Locator hands clients of registries without dedicated data endpoints a
// SAS URL of the shared storage account, so that they download blobs from
// the storage service instead of through the node. Its BlobURL has the
// shape of the OCI handler's blob locator; it is asked after the
// data-endpoint locator.
type Locator struct {
	store *Store
}

// NewLocator returns a Locator that signs URLs of s, valid for s's SAS
// lifetime.
func NewLocator(s *Store) *Locator { return &Locator{store: s} }

// BlobURL returns "" for a registry with dedicated data endpoints, whose
// blobs must leave only through them, and otherwise a read-only SAS URL of
// blob d in reg's storage. It is asked only after the request was
// authorized and the blob found in repo; errors are those of SignedURL.
func (l *Locator) BlobURL(r *http.Request, reg berth.Registry, repo string, d digest.Digest, p berth.Principal) (string, error) {
	if reg.DataEndpointEnabled {
		return "", nil
	}
	return l.store.SignedURL(r.Context(), reg.Name, d, 0)
}
