// Package dataendpoint implements dedicated data endpoints: host names
// "<registry>.<region>.data.<domain>" that serve one registry's blobs in one
// region, read-only, to holders of a short-lived URL signed for them by the
// registry's login server. A client firewall then needs to allow only the
// login server and one data endpoint per region.
//
// The login server authorizes a blob GET or HEAD and asks its Locator for
// the blob's URL; when the registry has data endpoints enabled, it answers
// 307 with
//
//	<scheme>://<registry>.<region>.data.<domain>[:port]/v2/<repository>/blobs/<digest>?bt=<token>
//
// The path repeats the login server's blob path so that both hosts log and
// filter the same names; the token, not the path, is what grants access.
//
// # Tokens
//
// A Signer mints and verifies tokens with HMAC-SHA256 keys of 32 random
// bytes, shared by the nodes of a region through the signing-key table of
// the metadata store under ids beginning with KeyPrefix ("data-"). The
// newest active key signs; Rotate retires the active keys so that they
// verify for an overlap window (their NotAfter) and deletes expired ones.
// Keys are cached in memory: verification reads the store only to refresh
// the cache periodically and, rate-limited, for a token of an unknown key.
//
// A token is "<payload>.<mac>", both base64url without padding. The payload
// is binary: a version byte (1), then the key id, registry, region,
// repository, digest, identity (the principal the login server authorized),
// access class ("read") and bound client IP ("" when unbound), each as a
// uvarint length and bytes, then issued-at and expiry as varints of Unix
// seconds. The MAC covers a fixed context string and the payload. Verify
// accepts a token only when it is the exact encoding the Signer produces:
// canonical base64url, no bytes to spare, a MAC that matches under a
// current key (compared in constant time), not expired, issued at most a
// small skew in the future, and a lifetime no longer than the maximum.
//
// # Refusals
//
// The Handler checks a request in the order below and answers the first
// failure with an OCI error body {"errors":[{"code":...,"message":...}]}
// whose message names the cause. It never reads the Authorization header:
// a credential neither helps nor hurts.
//
//	check                                                  status  code
//	Host not "<registry>.<region>.data.<domain>"           404     NAME_UNKNOWN
//	  (IP literal, login server, other domain, bad names)
//	Host of another region than the node's                 404     NAME_UNKNOWN
//	method other than GET or HEAD (Allow: GET, HEAD)       405     UNSUPPORTED
//	path not a blob path (/v2/, catalog, tags, manifests,  404     UNSUPPORTED
//	  referrers, uploads) or with a byte other than
//	  a-z 0-9 / . _ - : (percent-escapes, upper case, ';')
//	repository in the path not a valid name               404     NAME_INVALID
//	  (".", "..", empty segments)
//	digest in the path not sha256/sha512 (trailing junk)   404     DIGEST_INVALID
//	no bt parameter, several, malformed query              401     UNAUTHORIZED
//	token malformed, truncated, wrong version              401     UNAUTHORIZED
//	token of an unknown or retired key, MAC mismatch       401     UNAUTHORIZED
//	token expired, not yet valid, lifetime too long        401     UNAUTHORIZED
//	token for another access class than read               403     DENIED
//	token for another registry than the host's             403     DENIED
//	token for another region than the host's               403     DENIED
//	token for another repository or digest than the path   403     DENIED
//	token bound to another client address                  403     DENIED
//	network rules of the registry refuse the client        403     DENIED
//	registry unknown to the network rules                  404     NAME_UNKNOWN
//	blob not in the registry's store                       404     BLOB_UNKNOWN
//	Range outside the blob (Content-Range: bytes */size)   416     RANGE_INVALID
//
// 401 means the token is not a valid credential and the only remedy is a
// new URL from the login server; no WWW-Authenticate challenge is sent,
// because no credential sent to the data endpoint would help. 403 means a
// genuine token that does not cover this request. The data endpoint never
// looks registries up, so its answers do not reveal which registries exist.
//
// A served blob is 200, or 206 for a single satisfiable byte range, with
// Content-Length, Content-Type application/octet-stream,
// Docker-Content-Digest, ETag, Accept-Ranges and a private Cache-Control
// that ends with the token. The body is copied with io.Copy from the
// BlobReader, so a file-backed store is sent with sendfile. After the
// response the Auditor receives a Record of it.
package dataendpoint
