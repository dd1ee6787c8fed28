// Package auth authenticates and authorizes the callers of every login
// server, in the model of Azure Container Registry and Docker's token
// protocol.
//
// Credentials are the admin user of a registry (user name = registry name,
// when enabled), scope-map tokens (user name = token name), refresh tokens
// (user name 00000000-0000-0000-0000-000000000000, or grant_type
// refresh_token), and the operator's credential, which /oauth2/exchange
// turns into a refresh token of a registry-wide admin. A client exchanges
// them at /oauth2/token for a short-lived access token: an ES256 JWT whose
// "access" claim lists what it may do, audience the login server
// "<registry>.<domain>". Service.Authorize verifies access tokens in memory,
// without a database round trip; Basic credentials are checked against the
// bcrypt hashes of the registry's secrets, with successful checks cached
// for a minute.
//
// Scope maps grant actions "repositories/<pattern>/<content|metadata>/<verb>"
// where the pattern is a repository name or a prefix ending in "*"; they map
// to the token actions pull, push, delete, metadata_read and metadata_write.
// Every registry has the built-in maps of BuiltInScopeMaps.
//
// Signing keys are shared by the nodes of a region through a KeyStore and
// cached in memory; RotateKeys adds a key that signs from then on and keeps
// the retired ones verifying for Config.KeyOverlap.
package auth
