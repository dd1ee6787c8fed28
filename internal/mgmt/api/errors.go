package api

// Code is the machine-readable code of a management API error, as ACR
// names its errors. Each code has one HTTP status, noted beside it.
type Code string

// The error codes of the management API.
const (
	CodeBadRequest                Code = "BadRequest"                // 400: malformed JSON, unknown field
	CodeInvalidParameter          Code = "InvalidParameter"          // 400: a value breaks a rule
	CodeInvalidRegistryName       Code = "InvalidRegistryName"       // 400
	CodeInvalidSku                Code = "InvalidSku"                // 400
	CodeInvalidLocation           Code = "InvalidLocation"           // 400
	CodeFeatureNotSupportedForSku Code = "FeatureNotSupportedForSku" // 400
	CodeAdminUserDisabled         Code = "AdminUserDisabled"         // 400
	CodeInvalidScopeMapName       Code = "InvalidScopeMapName"       // 400
	CodeInvalidScopeMapAction     Code = "InvalidScopeMapAction"     // 400
	CodeUnknownScopeMap           Code = "UnknownScopeMap"           // 400: a token names a scope map that does not exist
	CodeInvalidTokenName          Code = "InvalidTokenName"          // 400
	CodeOperationNotSupported     Code = "OperationNotSupported"     // 400
	CodeUnauthorized              Code = "Unauthorized"              // 401: no or wrong operator token
	CodeOperationDenied           Code = "OperationDenied"           // 403: a lock or a read-only resource refuses the change
	CodeNotFound                  Code = "NotFound"                  // 404: no such endpoint
	CodeRegistryNotFound          Code = "RegistryNotFound"          // 404
	CodeScopeMapNotFound          Code = "ScopeMapNotFound"          // 404
	CodeTokenNotFound             Code = "TokenNotFound"             // 404
	CodePasswordNotFound          Code = "PasswordNotFound"          // 404
	CodeRepositoryNotFound        Code = "RepositoryNotFound"        // 404
	CodeTagNotFound               Code = "TagNotFound"               // 404
	CodeManifestNotFound          Code = "ManifestNotFound"          // 404
	CodeMethodNotAllowed          Code = "MethodNotAllowed"          // 405
	CodeRegistryNameNotAvailable  Code = "RegistryNameNotAvailable"  // 409
	CodeScopeMapAlreadyExists     Code = "ScopeMapAlreadyExists"     // 409
	CodeTokenAlreadyExists        Code = "TokenAlreadyExists"        // 409
	CodeScopeMapInUse             Code = "ScopeMapInUse"             // 409
	CodeConflict                  Code = "Conflict"                  // 409: changed concurrently; retry
	CodeRequestTooLarge           Code = "RequestTooLarge"           // 413
	CodeTooManyRequests           Code = "TooManyRequests"           // 429
	CodeInternalServerError       Code = "InternalServerError"       // 500: the server log has the details
	CodeServiceUnavailable        Code = "ServiceUnavailable"        // 503
)

// ErrorResponse is the body of every error response.
type ErrorResponse struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: Message is meant for people and names
// the rule or the thing at fault.
type ErrorDetail struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}
