package mgmt

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"berth/internal/berth"
	"berth/internal/mgmt/api"
)

// statusOf gives every error code its one HTTP status.
var statusOf = map[api.Code]int{
	api.CodeBadRequest:                http.StatusBadRequest,
	api.CodeInvalidParameter:          http.StatusBadRequest,
	api.CodeInvalidRegistryName:       http.StatusBadRequest,
	api.CodeInvalidSku:                http.StatusBadRequest,
	api.CodeInvalidLocation:           http.StatusBadRequest,
	api.CodeFeatureNotSupportedForSku: http.StatusBadRequest,
	api.CodeAdminUserDisabled:         http.StatusBadRequest,
	api.CodeInvalidScopeMapName:       http.StatusBadRequest,
	api.CodeInvalidScopeMapAction:     http.StatusBadRequest,
	api.CodeUnknownScopeMap:           http.StatusBadRequest,
	api.CodeInvalidTokenName:          http.StatusBadRequest,
	api.CodeOperationNotSupported:     http.StatusBadRequest,
	api.CodeUnauthorized:              http.StatusUnauthorized,
	api.CodeOperationDenied:           http.StatusForbidden,
	api.CodeNotFound:                  http.StatusNotFound,
	api.CodeRegistryNotFound:          http.StatusNotFound,
	api.CodeScopeMapNotFound:          http.StatusNotFound,
	api.CodeTokenNotFound:             http.StatusNotFound,
	api.CodePasswordNotFound:          http.StatusNotFound,
	api.CodeRepositoryNotFound:        http.StatusNotFound,
	api.CodeTagNotFound:               http.StatusNotFound,
	api.CodeManifestNotFound:          http.StatusNotFound,
	api.CodeMethodNotAllowed:          http.StatusMethodNotAllowed,
	api.CodeRegistryNameNotAvailable:  http.StatusConflict,
	api.CodeScopeMapAlreadyExists:     http.StatusConflict,
	api.CodeTokenAlreadyExists:        http.StatusConflict,
	api.CodeScopeMapInUse:             http.StatusConflict,
	api.CodeConflict:                  http.StatusConflict,
	api.CodeRequestTooLarge:           http.StatusRequestEntityTooLarge,
	api.CodeTooManyRequests:           http.StatusTooManyRequests,
	api.CodeInternalServerError:       http.StatusInternalServerError,
	api.CodeServiceUnavailable:        http.StatusServiceUnavailable,
}

// apiError is an error the handler reports as it is.
type apiError struct {
	code api.Code
	msg  string
}

func (e *apiError) Error() string { return string(e.code) + ": " + e.msg }

// fail returns an *apiError with a formatted message.
func fail(code api.Code, format string, args ...any) error {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// resource names the kind of thing an error of a store is about.
type resource int

const (
	resNone resource = iota
	resRegistry
	resScopeMap
	resToken
	resPassword
	resRepository
	resTag
	resManifest
)

// resourceCodes are the codes of the store errors about each resource,
// with the noun that messages use.
var resourceCodes = map[resource]struct {
	noun                                string
	notFound, exists, invalid, conflict api.Code
}{
	resNone:       {"resource", api.CodeNotFound, api.CodeConflict, api.CodeInvalidParameter, api.CodeConflict},
	resRegistry:   {"registry", api.CodeRegistryNotFound, api.CodeRegistryNameNotAvailable, api.CodeInvalidParameter, api.CodeConflict},
	resScopeMap:   {"scope map", api.CodeScopeMapNotFound, api.CodeScopeMapAlreadyExists, api.CodeInvalidScopeMapAction, api.CodeScopeMapInUse},
	resToken:      {"token", api.CodeTokenNotFound, api.CodeTokenAlreadyExists, api.CodeInvalidParameter, api.CodeConflict},
	resPassword:   {"password", api.CodePasswordNotFound, api.CodeConflict, api.CodeInvalidParameter, api.CodeConflict},
	resRepository: {"repository", api.CodeRepositoryNotFound, api.CodeConflict, api.CodeInvalidParameter, api.CodeConflict},
	resTag:        {"tag", api.CodeTagNotFound, api.CodeConflict, api.CodeInvalidParameter, api.CodeConflict},
	resManifest:   {"manifest", api.CodeManifestNotFound, api.CodeConflict, api.CodeInvalidParameter, api.CodeConflict},
}

// aboutError is an error of a store while the handler worked on one
// resource: name in repository repo ("" outside repositories).
type aboutError struct {
	res        resource
	name, repo string
	err        error
}

func (e *aboutError) Error() string { return e.err.Error() }
func (e *aboutError) Unwrap() error { return e.err }

// about marks err as being about resource res called name (in repository
// repo, for tags and manifests); nil stays nil.
func about(err error, res resource, name, repo string) error {
	if err == nil {
		return nil
	}
	return &aboutError{res: res, name: name, repo: repo, err: err}
}

// toAPIError maps any error to the code and message the client sees. It is
// the one place where kinds of *berth.Error become error codes. A missing
// or existing resource gets a message of its own, the same whatever the
// store; other kinds keep the store's message. Internal errors get a
// generic message; the cause goes to the log.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var ab *aboutError
	if !errors.As(err, &ab) {
		ab = &aboutError{res: resNone}
	}
	codes := resourceCodes[ab.res]
	where := ""
	if ab.repo != "" {
		where = fmt.Sprintf(" in repository %q", ab.repo)
	}
	msg := berth.Message(err)
	switch berth.KindOf(err) {
	case berth.KindNotFound:
		if ab.res == resNone {
			return &apiError{codes.notFound, msg}
		}
		return &apiError{codes.notFound, fmt.Sprintf("%s %q not found%s", codes.noun, ab.name, where)}
	case berth.KindExists:
		if ab.res == resRegistry {
			return &apiError{codes.exists, fmt.Sprintf("the registry name %q is not available: a registry of that name already exists", ab.name)}
		}
		if ab.res == resNone {
			return &apiError{codes.exists, msg}
		}
		return &apiError{codes.exists, fmt.Sprintf("%s %q already exists%s", codes.noun, ab.name, where)}
	case berth.KindInvalid:
		return &apiError{codes.invalid, msg}
	case berth.KindConflict:
		return &apiError{codes.conflict, msg}
	case berth.KindUnauthorized:
		return &apiError{api.CodeUnauthorized, msg}
	case berth.KindDenied:
		return &apiError{api.CodeOperationDenied, msg}
	case berth.KindUnsupported:
		return &apiError{api.CodeOperationNotSupported, msg}
	case berth.KindTooLarge:
		return &apiError{api.CodeRequestTooLarge, msg}
	case berth.KindTooManyRequests:
		return &apiError{api.CodeTooManyRequests, msg}
	case berth.KindUnavailable:
		return &apiError{api.CodeServiceUnavailable, "service temporarily unavailable: " + msg}
	}
	return &apiError{api.CodeInternalServerError, "internal error; the server log has the details"}
}

// writeError sends err as an error body; internal errors are logged.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	status, ok := statusOf[ae.code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		h.log.ErrorContext(r.Context(), "management request failed", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	body, _ := json.Marshal(api.ErrorResponse{Error: api.ErrorDetail{Code: ae.code, Message: ae.msg}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(append(body, '\n'))
	}
}
