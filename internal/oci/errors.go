package oci

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"berth/internal/berth"
)

// Code is an OCI distribution error code.
type Code string

// The error codes of the OCI distribution spec, plus the two that Docker
// Distribution defined and clients know (TAG_INVALID, PAGINATION_NUMBER_INVALID).
const (
	CodeBlobUnknown             Code = "BLOB_UNKNOWN"
	CodeBlobUploadInvalid       Code = "BLOB_UPLOAD_INVALID"
	CodeBlobUploadUnknown       Code = "BLOB_UPLOAD_UNKNOWN"
	CodeDigestInvalid           Code = "DIGEST_INVALID"
	CodeManifestBlobUnknown     Code = "MANIFEST_BLOB_UNKNOWN"
	CodeManifestInvalid         Code = "MANIFEST_INVALID"
	CodeManifestUnknown         Code = "MANIFEST_UNKNOWN"
	CodeNameInvalid             Code = "NAME_INVALID"
	CodeNameUnknown             Code = "NAME_UNKNOWN"
	CodeSizeInvalid             Code = "SIZE_INVALID"
	CodeUnauthorized            Code = "UNAUTHORIZED"
	CodeDenied                  Code = "DENIED"
	CodeUnsupported             Code = "UNSUPPORTED"
	CodeTooManyRequests         Code = "TOOMANYREQUESTS"
	CodeTagInvalid              Code = "TAG_INVALID"
	CodePaginationNumberInvalid Code = "PAGINATION_NUMBER_INVALID"
	CodeRangeInvalid            Code = "RANGE_INVALID"
)

// Error is an error the API reports to the client as it is: status, code,
// message and an optional detail object.
type Error struct {
	Status  int
	Code    Code
	Message string
	Detail  any
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

func apiError(status int, code Code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// resource names what a request was about, so that a "not found" from a
// store becomes the OCI code of that resource.
type resource int

const (
	resBlob resource = iota
	resManifest
	resUpload
	resRepository
)

var notFoundCode = map[resource]Code{
	resBlob:       CodeBlobUnknown,
	resManifest:   CodeManifestUnknown,
	resUpload:     CodeBlobUploadUnknown,
	resRepository: CodeNameUnknown,
}

// toAPIError maps any error to what the client sees. Unknown and internal
// errors become a 500 with a generic message; the cause goes to the log.
func toAPIError(err error, res resource) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	msg := berth.Message(err)
	switch berth.KindOf(err) {
	case berth.KindNotFound:
		return apiError(http.StatusNotFound, notFoundCode[res], msg)
	case berth.KindInvalid:
		var ur *berth.UnknownReferenceError
		if errors.As(err, &ur) {
			e := apiError(http.StatusBadRequest, CodeManifestBlobUnknown, msg)
			e.Detail = map[string]string{"digest": ur.Digest.String()}
			return e
		}
		if res == resUpload {
			return apiError(http.StatusBadRequest, CodeBlobUploadInvalid, msg)
		}
		if res == resManifest {
			return apiError(http.StatusBadRequest, CodeManifestInvalid, msg)
		}
		return apiError(http.StatusBadRequest, CodeNameInvalid, msg)
	case berth.KindConflict:
		return apiError(http.StatusConflict, CodeBlobUploadInvalid, msg)
	case berth.KindUnauthorized:
		return apiError(http.StatusUnauthorized, CodeUnauthorized, msg)
	case berth.KindDenied:
		return apiError(http.StatusForbidden, CodeDenied, msg)
	case berth.KindUnsupported:
		return apiError(http.StatusMethodNotAllowed, CodeUnsupported, msg)
	case berth.KindTooLarge:
		return apiError(http.StatusRequestEntityTooLarge, CodeSizeInvalid, msg)
	case berth.KindTooManyRequests:
		return apiError(http.StatusTooManyRequests, CodeTooManyRequests, msg)
	case berth.KindUnavailable:
		return apiError(http.StatusServiceUnavailable, CodeUnsupported, "service temporarily unavailable: "+msg)
	}
	return apiError(http.StatusInternalServerError, "INTERNAL_ERROR", "internal error; see the server log for the request id")
}

type errorBody struct {
	Errors []errorItem `json:"errors"`
}

type errorItem struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// writeError sends err as an OCI error body. Internal errors are logged.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error, res resource) {
	ae := toAPIError(err, res)
	if ae.Status >= 500 {
		h.log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	writeAPIError(w, r, ae)
}

func writeAPIError(w http.ResponseWriter, r *http.Request, ae *Error) {
	body, _ := json.Marshal(errorBody{Errors: []errorItem{{Code: ae.Code, Message: ae.Message, Detail: ae.Detail}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(ae.Status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
