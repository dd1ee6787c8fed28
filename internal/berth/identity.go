package berth

import (
	"context"
	"time"
)

// SKU is a registry's service tier; it gates features and sets rate limits.
type SKU string

// The SKUs, as ACR names them.
const (
	SKUBasic    SKU = "Basic"
	SKUStandard SKU = "Standard"
	SKUPremium  SKU = "Premium"
)

// Settings are the mutable properties of a registry that the management API
// sets; Registry embeds them. The zero Settings is a Basic registry with
// everything off.
type Settings struct {
	SKU                  SKU
	AdminUserEnabled     bool
	AnonymousPullEnabled bool
	DataEndpointEnabled  bool
	// DataEndpointURLTTL is how long the signed data endpoint URLs of the
	// registry stay valid; zero means the node's default (10 minutes).
	DataEndpointURLTTL time.Duration
}

// Secret is one of the (at most two) passwords of a credential owner: the
// admin user of a registry or a token. Only a hash is stored.
type Secret struct {
	Name      string    // "password1" or "password2"
	Hash      []byte    // bcrypt hash of the password
	CreatedAt time.Time //
	Expiry    time.Time // zero: never expires
}

// Expired reports whether s has expired at now.
func (s Secret) Expired(now time.Time) bool { return !s.Expiry.IsZero() && !now.Before(s.Expiry) }

// Owners of secrets: the admin user, or a token by name ("token/<name>").
const AdminOwner = "admin"

// TokenOwner returns the secret owner name of token name.
func TokenOwner(name string) string { return "token/" + name }

// ScopeMap is a named set of actions on repositories that tokens refer to.
// Each action reads "repositories/<pattern>/<action>", where pattern is a
// repository name, optionally ending in "*" (any suffix), and action is one
// of content/read, content/write, content/delete, metadata/read,
// metadata/write.
type ScopeMap struct {
	Registry    string
	Name        string
	Description string
	Actions     []string
	BuiltIn     bool // the _repositories_* maps every registry has; read-only
	CreatedAt   time.Time
}

// Token is a non-admin identity of a registry: its name is the user name,
// its scope map says what it may do.
type Token struct {
	Registry  string
	Name      string
	ScopeMap  string
	Enabled   bool
	CreatedAt time.Time
}

// Attributes lock content: a repository, a tag or a manifest that is not
// write-enabled cannot be overwritten, not delete-enabled cannot be deleted,
// not read-enabled cannot be pulled, not list-enabled is left out of lists.
type Attributes struct {
	DeleteEnabled bool `json:"deleteEnabled"`
	WriteEnabled  bool `json:"writeEnabled"`
	ReadEnabled   bool `json:"readEnabled"`
	ListEnabled   bool `json:"listEnabled"`
}

// AllEnabled is the default: nothing locked.
var AllEnabled = Attributes{true, true, true, true}

// IdentityStore records registry settings, credentials, scope maps and
// tokens. Errors are *Error: KindNotFound, KindExists as documented.
type IdentityStore interface {
	// UpdateSettings replaces a registry's settings; KindNotFound if no
	// such registry.
	UpdateSettings(ctx context.Context, registry string, s Settings) error
	// DeleteRegistry removes a registry and everything it holds in metadata.
	DeleteRegistry(ctx context.Context, registry string) error

	// PutSecret creates or replaces the secret s.Name of owner.
	PutSecret(ctx context.Context, registry, owner string, s Secret) error
	// Secrets lists the secrets of owner ordered by name (empty if none).
	Secrets(ctx context.Context, registry, owner string) ([]Secret, error)
	// DeleteSecret removes one secret; KindNotFound if absent.
	DeleteSecret(ctx context.Context, registry, owner, name string) error

	// CreateScopeMap records a scope map; KindExists if the name is taken.
	CreateScopeMap(ctx context.Context, m ScopeMap) error
	// UpdateScopeMap replaces description and actions; KindNotFound if absent.
	UpdateScopeMap(ctx context.Context, m ScopeMap) error
	// ScopeMap returns one scope map; KindNotFound if absent.
	ScopeMap(ctx context.Context, registry, name string) (ScopeMap, error)
	// ScopeMaps lists a registry's scope maps ordered by name.
	ScopeMaps(ctx context.Context, registry string) ([]ScopeMap, error)
	// DeleteScopeMap removes a scope map; KindConflict if a token uses it.
	DeleteScopeMap(ctx context.Context, registry, name string) error

	// CreateToken records a token; KindExists if the name is taken. The
	// caller checks that its scope map exists (built-in maps are not stored).
	CreateToken(ctx context.Context, t Token) error
	// UpdateToken replaces scope map and status; KindNotFound if absent.
	UpdateToken(ctx context.Context, t Token) error
	// Token returns one token; KindNotFound if absent.
	Token(ctx context.Context, registry, name string) (Token, error)
	// Tokens lists a registry's tokens ordered by name.
	Tokens(ctx context.Context, registry string) ([]Token, error)
	// DeleteToken removes a token and its secrets; KindNotFound if absent.
	DeleteToken(ctx context.Context, registry, name string) error
}

// SigningKey is a private key that signs the registry's bearer tokens. Every
// node of a region shares them through the metadata store: the newest key
// signs, every key verifies until NotAfter (zero: no end yet).
type SigningKey struct {
	ID        string
	Private   []byte // PKCS#8 DER
	CreatedAt time.Time
	NotAfter  time.Time
}

// KeyStore keeps the signing keys.
type KeyStore interface {
	// SigningKeys lists every key, newest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// PutSigningKey creates or replaces a key by ID.
	PutSigningKey(ctx context.Context, k SigningKey) error
	// DeleteSigningKey removes a key; a missing key is not an error.
	DeleteSigningKey(ctx context.Context, id string) error
}
