// Package httpx is the HTTP plumbing every listener of a node shares: a
// server that shuts down gracefully when its context ends, request ids, and
// a structured access log. It knows nothing of registries.
package httpx
