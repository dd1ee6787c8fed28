package mgmt

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"berth/internal/mgmt/api"
)

// maxBody bounds a request body.
const maxBody = 1 << 20

// decode reads the JSON object of r's body into v, refusing unknown fields
// and trailing data. Its errors are BadRequest (InvalidParameter for a
// malformed time) and say what is wrong.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return fail(api.CodeBadRequest, "the request body holds more than one JSON value")
		}
		return nil
	}
	var (
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
		badTime  *time.ParseError
	)
	switch {
	case errors.Is(err, io.EOF):
		return fail(api.CodeBadRequest, "the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fail(api.CodeBadRequest, "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &syntax):
		return fail(api.CodeBadRequest, "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fail(api.CodeBadRequest, "the request body must be a JSON object, not %s", typ.Value)
		}
		return fail(api.CodeBadRequest, "field %q must be of JSON type %s, not %s", typ.Field, jsonType(typ.Type), typ.Value)
	case errors.As(err, &tooLarge):
		return fail(api.CodeRequestTooLarge, "the request body exceeds %d bytes", tooLarge.Limit)
	case errors.As(err, &badTime):
		return fail(api.CodeInvalidParameter, "%q is not an RFC 3339 time such as 2030-01-31T00:00:00Z", badTime.Value)
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fail(api.CodeBadRequest, "unknown field %s in the request body; the fields are %s",
			field, strings.Join(jsonFields(reflect.TypeOf(v)), ", "))
	}
	return fail(api.CodeBadRequest, "malformed request body: %v", err)
}

// jsonType names the JSON type that Go type t decodes from.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

// jsonFields lists the JSON field names of the struct that t points to.
func jsonFields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// writeJSON sends v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n')) // a failed write means the client went away
	return nil
}

// noContent answers 204.
func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}
