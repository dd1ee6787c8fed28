// Package hosts maps the Host of a request to the registry it is for: an
// alias ("localhost") or a login server name "<registry>.<domain>". Lookups
// are cached for a short time so the hot path costs no database round trip.
package hosts
