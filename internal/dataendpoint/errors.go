package dataendpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"berth/internal/berth"
)

// code is an OCI error code as the data endpoint reports it.
type code string

// The codes of the data endpoint: those of the OCI distribution spec, plus
// UNAVAILABLE from Docker Distribution and the INTERNAL_ERROR of the /v2 API.
const (
	codeBlobUnknown     code = "BLOB_UNKNOWN"
	codeDenied          code = "DENIED"
	codeDigestInvalid   code = "DIGEST_INVALID"
	codeNameInvalid     code = "NAME_INVALID"
	codeNameUnknown     code = "NAME_UNKNOWN"
	codeRangeInvalid    code = "RANGE_INVALID"
	codeUnauthorized    code = "UNAUTHORIZED"
	codeUnsupported     code = "UNSUPPORTED"
	codeTooManyRequests code = "TOOMANYREQUESTS"
	codeUnavailable     code = "UNAVAILABLE"
	codeInternal        code = "INTERNAL_ERROR"
)

// codeError is the cause of a refusal that sets its own status and code;
// the handler's own refusals are all of this kind.
type codeError struct {
	status int
	code   code
	msg    string
}

func (e *codeError) Error() string { return e.msg }

// refuse returns an *berth.Error of kind whose cause answers the client with
// status and c; format and args make the message.
func refuse(op string, kind berth.Kind, status int, c code, format string, args ...any) error {
	return &berth.Error{Op: op, Kind: kind, Err: &codeError{status: status, code: c, msg: fmt.Sprintf(format, args...)}}
}

// refusal is what a client sees of a refused request.
type refusal struct {
	status  int
	code    code
	message string
}

// toRefusal maps any error to what the client sees: a codeError as it says,
// other errors by kind. Internal errors get a generic message; their cause
// belongs in the log.
func toRefusal(err error) refusal {
	var ce *codeError
	if errors.As(err, &ce) {
		return refusal{ce.status, ce.code, ce.msg}
	}
	msg := berth.Message(err)
	switch berth.KindOf(err) {
	case berth.KindNotFound:
		return refusal{http.StatusNotFound, codeBlobUnknown, msg}
	case berth.KindUnauthorized:
		return refusal{http.StatusUnauthorized, codeUnauthorized, msg}
	case berth.KindDenied:
		return refusal{http.StatusForbidden, codeDenied, msg}
	case berth.KindUnsupported:
		return refusal{http.StatusMethodNotAllowed, codeUnsupported, msg}
	case berth.KindInvalid:
		return refusal{http.StatusBadRequest, codeNameInvalid, msg}
	case berth.KindTooManyRequests:
		return refusal{http.StatusTooManyRequests, codeTooManyRequests, msg}
	case berth.KindUnavailable:
		return refusal{http.StatusServiceUnavailable, codeUnavailable, "service temporarily unavailable: " + msg}
	}
	return refusal{http.StatusInternalServerError, codeInternal, "internal error; see the server log for the request id"}
}

type errorBody struct {
	Errors []errorItem `json:"errors"`
}

type errorItem struct {
	Code    code   `json:"code"`
	Message string `json:"message"`
}

// writeError answers r with err as an OCI error body (no body for HEAD).
// Server errors are logged with their cause, refusals at debug level.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	rf := toRefusal(err)
	if rf.status >= 500 {
		h.log.ErrorContext(r.Context(), "data endpoint request failed", slog.String("method", r.Method),
			slog.String("host", r.Host), slog.String("path", r.URL.Path), slog.Any("err", err))
	} else {
		h.log.DebugContext(r.Context(), "data endpoint request refused", slog.String("method", r.Method),
			slog.String("host", r.Host), slog.Int("status", rf.status), slog.String("code", string(rf.code)),
			slog.String("reason", rf.message))
	}
	body, _ := json.Marshal(errorBody{Errors: []errorItem{{Code: rf.code, Message: rf.message}}})
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(rf.status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
