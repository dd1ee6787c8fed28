package azblob

import (
	"context"
	_ "crypto/sha256" // makes digest.SHA256 available to Digest.Validate
	_ "crypto/sha512" // makes digest.SHA384 and digest.SHA512 available
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// DefaultSASTTL is how long a SAS URL minted by a Locator stays valid when
// Config.SASTTL is zero.
const DefaultSASTTL = 10 * time.Minute

// Config names the storage account and container a Store keeps its blobs in.
type Config struct {
	// AccountName is the storage account's name.
	AccountName string
	// AccountKey is the account's base64 shared key.
	AccountKey string
	// ServiceURL is the blob endpoint of the account, such as
	// "https://<account>.blob.core.windows.net/" or, for Azurite,
	// "http://127.0.0.1:10000/<account>". Empty means the public Azure
	// endpoint of AccountName. SAS URLs allow plain HTTP only when this URL
	// is plain HTTP.
	ServiceURL string
	// Container is the name of the container, 3 to 63 lowercase letters,
	// digits and single hyphens. New creates it when it does not exist.
	Container string
	// SASTTL is how long the SAS URLs of a Locator stay valid; zero means
	// DefaultSASTTL.
	SASTTL time.Duration
	// PublicURL, when set, is the blob endpoint of the account as clients
	// reach it (a custom domain, or the account's production-style name
	// where the node itself reaches the service by address); SAS URLs are
	// built on it. Empty means ServiceURL.
	PublicURL string
}

// Store is a berth.BlobStore that keeps every registry's blobs and uploads
// as block blobs in one container of an Azure storage account. It is safe
// for concurrent use, also by several nodes sharing the account; the
// metadata store decides which writer of an upload wins. Every method
// returns KindInvalid for a malformed registry name, upload id or digest
// before it calls the service, KindUnavailable when ctx is done or the
// service cannot be reached or answers with a server error, and
// KindInternal for answers it does not expect (such as a refused key or a
// missing container).
type Store struct {
	container *container.Client
	bucket    string // the container's name
	service   *url.URL
	public    *url.URL // where clients reach the service; SAS URLs name it
	cred      *azblob.SharedKeyCredential
	https     bool
	sasTTL    time.Duration
}

var _ berth.BlobStore = (*Store)(nil)

var containerName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)

// New connects to the account of cfg and creates the container when it does
// not exist. The error is KindInvalid when cfg is incomplete or malformed,
// KindUnavailable when the service cannot be reached and KindInternal when
// it refuses the key or the container.
func New(ctx context.Context, cfg Config) (*Store, error) {
	const op = "azblob.New"
	if cfg.AccountName == "" || cfg.AccountKey == "" {
		return nil, berth.E(op, berth.KindInvalid, "storage account name and key are required")
	}
	if !containerName.MatchString(cfg.Container) {
		return nil, berth.E(op, berth.KindInvalid, "invalid container name %q: want 3 to 63 lowercase letters, digits and single hyphens", cfg.Container)
	}
	if cfg.SASTTL < 0 {
		return nil, berth.E(op, berth.KindInvalid, "SAS lifetime %s is negative", cfg.SASTTL)
	}
	if cfg.SASTTL == 0 {
		cfg.SASTTL = DefaultSASTTL
	}
	if cfg.ServiceURL == "" {
		cfg.ServiceURL = "https://" + cfg.AccountName + ".blob.core.windows.net/"
	}
	u, err := url.Parse(cfg.ServiceURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, berth.E(op, berth.KindInvalid, "invalid storage service URL %q: want an http or https URL", cfg.ServiceURL)
	}
	public := u
	if cfg.PublicURL != "" {
		public, err = url.Parse(cfg.PublicURL)
		if err != nil || (public.Scheme != "https" && public.Scheme != "http") || public.Host == "" {
			return nil, berth.E(op, berth.KindInvalid, "invalid public storage URL %q: want an http or https URL", cfg.PublicURL)
		}
	}
	cred, err := azblob.NewSharedKeyCredential(cfg.AccountName, cfg.AccountKey)
	if err != nil {
		return nil, berth.E(op, berth.KindInvalid, "storage account key of %q: %w", cfg.AccountName, err)
	}
	client, err := azblob.NewClientWithSharedKeyCredential(cfg.ServiceURL, cred, nil)
	if err != nil {
		return nil, berth.E(op, berth.KindInvalid, "storage service %q: %w", cfg.ServiceURL, err)
	}
	s := &Store{
		container: client.ServiceClient().NewContainerClient(cfg.Container),
		bucket:    cfg.Container,
		service:   u,
		public:    public,
		cred:      cred,
		https:     u.Scheme == "https" && public.Scheme == "https",
		sasTTL:    cfg.SASTTL,
	}
	if _, err := s.container.Create(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return nil, berth.E(op, kindOf(err), "creating container %q in storage account %q: %w", cfg.Container, cfg.AccountName, short(err))
	}
	return s, nil
}

func checkRegistry(op, registry string) error { return berth.CheckRegistryName(op, registry) }

func checkUpload(op, registry, id string) error {
	if err := berth.CheckRegistryName(op, registry); err != nil {
		return err
	}
	return berth.CheckUploadID(op, id)
}

func checkDigest(op string, dgst digest.Digest) error {
	if err := dgst.Validate(); err != nil {
		return berth.E(op, berth.KindInvalid, "invalid digest %q: %w", string(dgst), err)
	}
	return nil
}

func checkBlob(op, registry string, dgst digest.Digest) error {
	if err := checkRegistry(op, registry); err != nil {
		return err
	}
	return checkDigest(op, dgst)
}

// blobName returns the name of blob dgst; both must have been validated.
func blobName(registry string, dgst digest.Digest) string {
	return registry + "/blobs/" + dgst.Algorithm().String() + "/" + dgst.Encoded()
}

// uploadName returns the name of upload id; both must have been validated.
func uploadName(registry, id string) string {
	return registry + "/uploads/" + id
}

func (s *Store) blob(registry string, dgst digest.Digest) *blockblob.Client {
	return s.container.NewBlockBlobClient(blobName(registry, dgst))
}

func (s *Store) upload(registry, id string) *blockblob.Client {
	return s.container.NewBlockBlobClient(uploadName(registry, id))
}

// ctxError reports a done context as KindUnavailable.
func ctxError(op string, ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return berth.Wrap(op, berth.KindUnavailable, err)
	}
	return nil
}

// kindOf classifies an error of the storage client.
func kindOf(err error) berth.Kind {
	var re *azcore.ResponseError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return berth.KindUnavailable
	case !errors.As(err, &re):
		return berth.KindUnavailable // the service could not be reached
	case re.ErrorCode == string(bloberror.ContainerNotFound):
		return berth.KindInternal
	case re.StatusCode == http.StatusNotFound:
		return berth.KindNotFound
	case re.StatusCode == http.StatusConflict, re.StatusCode == http.StatusPreconditionFailed:
		return berth.KindConflict
	case re.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		return berth.KindInvalid
	case re.StatusCode == http.StatusRequestTimeout, re.StatusCode == http.StatusTooManyRequests, re.StatusCode >= 500:
		return berth.KindUnavailable
	default:
		return berth.KindInternal
	}
}

// serviceError is an answer of the storage service cut down to its status
// and error code; the full response, which names hosts and headers, stays
// reachable through Unwrap for the log.
type serviceError struct{ re *azcore.ResponseError }

func (e *serviceError) Error() string {
	return fmt.Sprintf("storage service answered %d %s", e.re.StatusCode, e.re.ErrorCode)
}

func (e *serviceError) Unwrap() error { return e.re }

// short returns err with a service answer cut down to a serviceError.
func short(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return &serviceError{re}
	}
	return err
}

// blobError describes an error about blob dgst, KindNotFound when the
// service does not have it.
func blobError(op, registry string, dgst digest.Digest, err error) error {
	kind := kindOf(err)
	if kind == berth.KindNotFound {
		return berth.E(op, kind, "blob %s not found in registry %q", dgst, registry)
	}
	return berth.E(op, kind, "blob %s of registry %q: %w", dgst, registry, short(err))
}

// uploadError describes an error about upload id, KindNotFound when the
// service does not have it.
func uploadError(op, registry, id string, err error) error {
	kind := kindOf(err)
	if kind == berth.KindNotFound {
		return berth.E(op, kind, "upload %s not found in registry %q", id, registry)
	}
	return berth.E(op, kind, "upload %s of registry %q: %w", id, registry, short(err))
}
