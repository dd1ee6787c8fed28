// Package api holds the wire types of berth's management API (/api/v1/):
// the JSON request and response bodies and the error codes. The server in
// internal/mgmt and the Go client in internal/client both use them, so the
// two cannot disagree about a field name. It imports nothing of this module.
//
// Every body is a JSON object with camelCase fields. Lists come wrapped as
// {"value": [...]}. An error is {"error": {"code": "...", "message": "..."}},
// with one of the Code constants. Passwords appear in a response only when
// that response generated them; berth stores only their hashes.
package api
