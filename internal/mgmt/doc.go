// Package mgmt serves berth's management REST API under /api/v1/: the
// registries of the node and their settings, the admin user's credentials,
// scope maps, tokens, and the administration of content (repositories,
// tags, manifests and their attributes). It speaks JSON with the wire types
// of internal/mgmt/api and follows ACR's resource model and rules.
//
// Every request but GET /api/v1/ and /api/v1/version carries the operator
// token as "Authorization: Bearer <token>". routes.go lists the whole
// surface; api/openapi.json at the root of the module documents it, and a
// test keeps the two in step.
//
// Repository names contain slashes, so a repository is addressed as the
// trailing wildcard of /repositories/{repository...}, while the tags and
// manifests of a repository are their own collections,
// /tags[/{tag}] and /manifests[/{digest}], that take the repository as the
// query parameter "repository".
//
// The handler holds no state of its own: every store, the password
// generator and the scope-map rules are injected through Deps, and every
// error of a store (*berth.Error) becomes an HTTP status and an error code
// in one function, toAPIError.
package mgmt
