// Package berth holds the domain types of the registry service (registries,
// repositories, manifests, tags, uploads), its error type, and the small
// interfaces that more than one package implements or consumes: BlobStore and
// MetadataStore. It imports nothing else from this module.
package berth
