package berth

// PrincipalKind says what kind of identity made a request.
type PrincipalKind string

// The kinds of principal.
const (
	PrincipalAnonymous PrincipalKind = "anonymous" // no credentials; only where anonymous pull is enabled
	PrincipalAdmin     PrincipalKind = "admin"     // the registry's admin user
	PrincipalToken     PrincipalKind = "token"     // a scope-map token of the registry
	PrincipalOperator  PrincipalKind = "operator"  // the operator of the service, through an exchanged refresh token
)

// Principal is an authenticated (or anonymous) caller of one registry.
type Principal struct {
	Kind     PrincipalKind
	Name     string // token name, the registry name for admin, "" for anonymous
	Registry string
}

// String names the principal in logs and audit records: "token:ci@contoso".
func (p Principal) String() string {
	if p.Kind == PrincipalAnonymous {
		return "anonymous@" + p.Registry
	}
	return string(p.Kind) + ":" + p.Name + "@" + p.Registry
}

// Registry-API actions, as Docker token scopes name them.
const (
	ActionPull          = "pull"           // content/read
	ActionPush          = "push"           // content/write
	ActionDelete        = "delete"         // content/delete
	ActionMetadataRead  = "metadata_read"  // metadata/read
	ActionMetadataWrite = "metadata_write" // metadata/write
)

// Access is one entry of a token scope or of a JWT "access" claim:
// {"type":"repository","name":"a/b","actions":["pull","push"]}. Type is
// "repository" or "registry" (with name "catalog").
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}
