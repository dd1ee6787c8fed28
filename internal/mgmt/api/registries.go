package api

import "time"

// APIVersion is the version segment of every path: /api/v1/.
const APIVersion = "v1"

// Version answers GET /api/v1/ and /api/v1/version, which need no token.
type Version struct {
	Version string `json:"version"` // always "v1"
	Region  string `json:"region"`  // the region of the node that answered
}

// The SKUs, as ACR names them. Requests may spell them in any case.
const (
	SKUBasic    = "Basic"
	SKUStandard = "Standard"
	SKUPremium  = "Premium"
)

// ProvisioningSucceeded is the provisioningState of every registry: berth
// creates registries synchronously.
const ProvisioningSucceeded = "Succeeded"

// Registry is a tenant of the service, as GET /api/v1/registries/{name}
// returns it.
type Registry struct {
	Name                 string `json:"name"`
	SKU                  string `json:"sku"`
	Location             string `json:"location"`
	LoginServer          string `json:"loginServer"` // <name>.<domain>
	AdminUserEnabled     bool   `json:"adminUserEnabled"`
	AnonymousPullEnabled bool   `json:"anonymousPullEnabled"` // Standard and Premium only
	DataEndpointEnabled  bool   `json:"dataEndpointEnabled"`  // Premium only
	// DataEndpointHostNames lists <name>.<region>.data.<domain> for every
	// region the registry is served in when data endpoints are enabled; it
	// is empty otherwise.
	DataEndpointHostNames []string `json:"dataEndpointHostNames"`
	// DataEndpointURLTTLSeconds is how long the signed data endpoint URLs
	// stay valid; 0 means the node's default (600).
	DataEndpointURLTTLSeconds int       `json:"dataEndpointUrlTtlSeconds"`
	ProvisioningState         string    `json:"provisioningState"`
	CreationDate              time.Time `json:"creationDate"`
	// Credentials holds the admin user's passwords, with their values, only
	// in the response that generated them: a create with adminUserEnabled,
	// or an update that turned the admin user on.
	Credentials *Credentials `json:"credentials,omitempty"`
}

// RegistryList is the body of GET /api/v1/registries.
type RegistryList struct {
	Value []Registry `json:"value"`
}

// CreateRegistryRequest is the body of POST /api/v1/registries. Name must
// be 5 to 50 letters and digits (stored in lower case); SKU is required.
// Location defaults to the region of the node.
type CreateRegistryRequest struct {
	Name                 string `json:"name"`
	SKU                  string `json:"sku"`
	Location             string `json:"location,omitempty"`
	AdminUserEnabled     bool   `json:"adminUserEnabled,omitempty"`
	AnonymousPullEnabled bool   `json:"anonymousPullEnabled,omitempty"`
	DataEndpointEnabled  bool   `json:"dataEndpointEnabled,omitempty"`
}

// UpdateRegistryRequest is the body of PATCH /api/v1/registries/{name}:
// nil fields keep their value. The SKU gates are checked on the result, so
// a downgrade must turn off the features the lower SKU lacks first (or in
// the same request).
type UpdateRegistryRequest struct {
	SKU                  *string `json:"sku,omitempty"`
	AdminUserEnabled     *bool   `json:"adminUserEnabled,omitempty"`
	AnonymousPullEnabled *bool   `json:"anonymousPullEnabled,omitempty"`
	DataEndpointEnabled  *bool   `json:"dataEndpointEnabled,omitempty"`
	// DataEndpointURLTTLSeconds sets the lifetime of signed data endpoint
	// URLs, from 30 to 3600 seconds; 0 returns to the node's default.
	DataEndpointURLTTLSeconds *int `json:"dataEndpointUrlTtlSeconds,omitempty"`
}

// Endpoints lists the host names a client firewall must allow to pull from
// a registry: GET /api/v1/registries/{name}/endpoints.
type Endpoints struct {
	LoginServer   string         `json:"loginServer"`
	DataEndpoints []DataEndpoint `json:"dataEndpoints"` // empty unless data endpoints are enabled
}

// The modes of a registry's blob downloads, as Allowlist.Mode names them.
const (
	ModeDataEndpoints = "dedicated-data-endpoints" // blobs from <registry>.<region>.data.<domain>
	ModeSharedStorage = "shared-storage"           // blobs from the storage service's own signed URLs
	ModeLoginServer   = "login-server"             // the login server streams blobs itself
)

// Allowlist is what a client firewall must allow to pull from a registry,
// with the addresses the node knows for those names:
// GET /api/v1/registries/{name}/endpoints/allowlist.
type Allowlist struct {
	Mode  string        `json:"mode"`
	Rules []AllowRule   `json:"rules"`
	Hosts []HostAddress `json:"hosts"`
}

// AllowRule allows one destination. Host may be a wildcard ("*.blob.example.net")
// where the storage service gives every account a name under one domain.
type AllowRule struct {
	Host    string `json:"host"`
	Port    int    `json:"port"`
	Purpose string `json:"purpose"`
}

// HostAddress is one address a host name resolves to, as /etc/hosts or a
// private DNS zone would hold it.
type HostAddress struct {
	Address string `json:"address"`
	Host    string `json:"host"`
}

// DataEndpoint is the dedicated data endpoint of a registry in one region.
type DataEndpoint struct {
	Region   string `json:"region"`
	Endpoint string `json:"endpoint"`
}

// The statuses of a health check.
const (
	HealthOK      = "ok"
	HealthWarning = "warning"
	HealthError   = "error"
)

// Health is the body of GET /api/v1/registries/{name}/health. Healthy is
// false when any check has status "error".
type Health struct {
	Registry string        `json:"registry"`
	Healthy  bool          `json:"healthy"`
	Checks   []HealthCheck `json:"checks"`
}

// HealthCheck is one check of a registry's health.
type HealthCheck struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // ok, warning or error
	Message string `json:"message"`
}

// The names of the admin user's passwords.
const (
	AdminPassword1 = "password"
	AdminPassword2 = "password2"
)

// The names of a token's passwords.
const (
	TokenPassword1 = "password1"
	TokenPassword2 = "password2"
)

// Credentials are a user name and its passwords. Password values appear
// only in the response that generated them.
type Credentials struct {
	Username  string     `json:"username"`
	Passwords []Password `json:"passwords"`
}

// Password describes one password of the admin user or of a token. Value
// is set only when the password was generated by this very response.
type Password struct {
	Name         string    `json:"name"`
	Value        string    `json:"value,omitempty"`
	CreationTime time.Time `json:"creationTime,omitzero"`
	Expiry       time.Time `json:"expiry,omitzero"` // zero: never expires
}

// Password returns the password called name and whether c holds it.
func (c Credentials) Password(name string) (Password, bool) {
	for _, p := range c.Passwords {
		if p.Name == name {
			return p, true
		}
	}
	return Password{}, false
}

// RenewPasswordRequest is the body of POST
// /api/v1/registries/{name}/credentials/renew: PasswordName is "password"
// or "password2".
type RenewPasswordRequest struct {
	PasswordName string `json:"passwordName"`
}
