package api

import "time"

// The types of scope map.
const (
	ScopeMapSystemDefined = "SystemDefined" // built in, read-only
	ScopeMapUserDefined   = "UserDefined"
)

// ScopeMap is a named set of repository actions that tokens refer to. Each
// action reads repositories/<repository or prefix*>/<content|metadata>/<verb>,
// e.g. "repositories/team/app/content/read".
type ScopeMap struct {
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	Actions      []string  `json:"actions"`
	Type         string    `json:"type"`                  // SystemDefined or UserDefined
	CreationDate time.Time `json:"creationDate,omitzero"` // zero for built-in maps
}

// ScopeMapList is the body of GET /api/v1/registries/{name}/scopeMaps: the
// built-in maps first, then the registry's own, each group by name.
type ScopeMapList struct {
	Value []ScopeMap `json:"value"`
}

// CreateScopeMapRequest is the body of POST
// /api/v1/registries/{name}/scopeMaps. Name is 5 to 50 letters, digits, '-'
// and '_'; at least one action is required.
type CreateScopeMapRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Actions     []string `json:"actions"`
}

// UpdateScopeMapRequest is the body of PATCH
// /api/v1/registries/{name}/scopeMaps/{scopeMap}: nil Description keeps
// it; AddActions are added, then RemoveActions (each must be present) are
// removed. The result must keep at least one action.
type UpdateScopeMapRequest struct {
	Description   *string  `json:"description,omitempty"`
	AddActions    []string `json:"addActions,omitempty"`
	RemoveActions []string `json:"removeActions,omitempty"`
}

// The statuses of a token.
const (
	TokenEnabled  = "enabled"
	TokenDisabled = "disabled"
)

// Token is a non-admin identity of a registry: its name is the user name,
// its scope map says what it may do.
type Token struct {
	Name         string    `json:"name"`
	ScopeMapName string    `json:"scopeMapName"`
	Status       string    `json:"status"` // enabled or disabled
	CreationDate time.Time `json:"creationDate"`
	// Credentials lists the token's passwords; values only in the response
	// that generated them.
	Credentials Credentials `json:"credentials"`
}

// TokenList is the body of GET /api/v1/registries/{name}/tokens.
type TokenList struct {
	Value []Token `json:"value"`
}

// CreateTokenRequest is the body of POST /api/v1/registries/{name}/tokens.
// Name is 5 to 50 letters, digits and '-'. ScopeMapName must name a
// built-in or stored scope map. Status defaults to enabled. Unless
// NoPasswords is set, password1 and password2 are generated and returned
// once, expiring at Expiry or after ExpirationInDays (at most one of the two;
// neither: never).
type CreateTokenRequest struct {
	Name             string    `json:"name"`
	ScopeMapName     string    `json:"scopeMapName"`
	Status           string    `json:"status,omitempty"`
	NoPasswords      bool      `json:"noPasswords,omitempty"`
	Expiry           time.Time `json:"expiry,omitzero"`
	ExpirationInDays int       `json:"expirationInDays,omitempty"`
}

// UpdateTokenRequest is the body of PATCH
// /api/v1/registries/{name}/tokens/{token}: nil fields keep their value.
type UpdateTokenRequest struct {
	ScopeMapName *string `json:"scopeMapName,omitempty"`
	Status       *string `json:"status,omitempty"`
}

// GeneratePasswordRequest is the body of POST
// /api/v1/registries/{name}/tokens/{token}/credentials/generate.
// PasswordName is "password1" or "password2"; the password expires at
// Expiry or after ExpirationInDays (at most one of the two; neither: never).
type GeneratePasswordRequest struct {
	PasswordName     string    `json:"passwordName"`
	Expiry           time.Time `json:"expiry,omitzero"`
	ExpirationInDays int       `json:"expirationInDays,omitempty"`
}
