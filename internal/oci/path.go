package oci

import (
	"strconv"
	"strings"
)

// route is what a /v2/ path asks for.
type route int

const (
	routeInvalid   route = iota
	routeBase            // /v2/
	routeCatalog         // /v2/_catalog
	routeManifest        // /v2/<name>/manifests/<reference>
	routeBlob            // /v2/<name>/blobs/<digest>
	routeUploads         // /v2/<name>/blobs/uploads/
	routeUpload          // /v2/<name>/blobs/uploads/<id>
	routeTags            // /v2/<name>/tags/list
	routeReferrers       // /v2/<name>/referrers/<digest>
)

// target is a parsed /v2/ path: the route, the repository name and the last
// path element (reference, digest or upload id). The name is not validated.
type target struct {
	route route
	name  string
	ref   string
}

// parsePath splits a /v2/ request path. Repository names contain slashes, so
// the path is matched from its end; the first matching shape wins, in the
// order upload, blob, manifest, tags, referrers.
func parsePath(p string) target {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		if p == "/v2" {
			return target{route: routeBase}
		}
		return target{}
	}
	switch rest {
	case "":
		return target{route: routeBase}
	case "_catalog":
		return target{route: routeCatalog}
	}
	if name, ok := strings.CutSuffix(rest, "/blobs/uploads/"); ok {
		return target{route: routeUploads, name: name}
	}
	if name, ok := strings.CutSuffix(rest, "/blobs/uploads"); ok {
		return target{route: routeUploads, name: name}
	}
	if name, ok := strings.CutSuffix(rest, "/tags/list"); ok {
		return target{route: routeTags, name: name}
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return target{}
	}
	head, last := rest[:i], rest[i+1:]
	j := strings.LastIndexByte(head, '/')
	if j < 0 {
		return target{}
	}
	name, kind := head[:j], head[j+1:]
	switch kind {
	case "uploads":
		if n, ok := strings.CutSuffix(name, "/blobs"); ok {
			return target{route: routeUpload, name: n, ref: last}
		}
	case "blobs":
		return target{route: routeBlob, name: name, ref: last}
	case "manifests":
		return target{route: routeManifest, name: name, ref: last}
	case "referrers":
		return target{route: routeReferrers, name: name, ref: last}
	}
	return target{}
}

// validTag reports whether s is a tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
func validTag(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_'
		if i > 0 {
			ok = ok || b == '.' || b == '-'
		}
		if !ok {
			return false
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func quote(s string) string {
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return strconv.Quote(s)
}
