// Package metacache wraps the metadata store of the registry API with a
// short-lived read cache of tag lookups, manifests and blob links, so that
// repeated pulls of the same content cost no database round trip.
//
// Writes made through the wrapper drop the whole cache at once, so a node
// always sees its own writes. Writes made elsewhere (another node, the
// management API) are seen within the cache's TTL: the cache trades that
// bounded staleness for read throughput, and a TTL of zero turns it off.
// Only answers that found something are cached; a miss always asks the
// store, so new content is visible on every node at once.
package metacache
