// Package oci serves the OCI Distribution API (v1.1) under /v2/ for every
// registry of a node: pulls, pushes (monolithic, chunked, cross-repository
// mount), tag and catalog listing, the referrers API and deletion. The
// registry is chosen by the request's Host through a HostResolver; content
// lives in a berth.BlobStore and is made visible by a berth.MetadataStore.
// Errors become OCI error bodies in one place, errors.go.
package oci
