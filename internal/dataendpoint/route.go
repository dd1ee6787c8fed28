package dataendpoint

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// parseHost reads a Host header of the form "<registry>.<region>.data.<domain>",
// with an optional port and trailing dot, case-insensitively. It returns a
// 404 NAME_UNKNOWN refusal for anything else: IP literals, login servers,
// other domains, more or fewer labels, invalid registry or region names.
// It does not check that the registry exists: the data endpoint never looks
// registries up, so its answers do not reveal which exist.
func parseHost(hostport, domain string) (registry, region string, err error) {
	const op = "dataendpoint.parseHost"
	notOurs := func(why string) error {
		return refuse(op, berth.KindNotFound, http.StatusNotFound, codeNameUnknown,
			"host %s is not a data endpoint of this service: %s", quote(hostport), why)
	}
	if hostport == "" {
		return "", "", notOurs("the request names no host")
	}
	if len(hostport) > 300 {
		return "", "", notOurs("it is too long")
	}
	h := strings.ToLower(hostport)
	if strings.HasPrefix(h, "[") {
		return "", "", notOurs("data endpoints are addressed by name, not by IP address")
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		port := h[i+1:]
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return "", "", notOurs("the port is not a number")
		}
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	if _, err := netip.ParseAddr(h); err == nil || strings.Contains(h, ":") {
		return "", "", notOurs("data endpoints are addressed by name, not by IP address")
	}
	rest, ok := strings.CutSuffix(h, ".data."+domain)
	if !ok {
		return "", "", notOurs("want <registry>.<region>.data." + domain)
	}
	registry, region, ok = strings.Cut(rest, ".")
	if !ok || strings.Contains(region, ".") {
		return "", "", notOurs("want <registry>.<region>.data." + domain)
	}
	if !validRegistry(registry) {
		return "", "", notOurs("registry name " + quote(registry) + " is not valid")
	}
	if !validLabel(region) {
		return "", "", notOurs("region name " + quote(region) + " is not valid")
	}
	return registry, region, nil
}

// maxPathLength bounds the request path the handler looks at.
const maxPathLength = 1024

// blobPathShape is what every refused path is told to look like.
const blobPathShape = "/v2/<repository>/blobs/<digest>?bt=<token>"

// parseBlobPath reads the escaped request path of a data-endpoint request:
// exactly "/v2/<repository>/blobs/<digest>", with a valid repository name
// and a sha256 or sha512 digest, and no percent-escapes, empty segments,
// "." or ".." anywhere. Refusals are 404s: UNSUPPORTED for paths of other
// shapes (the base, the catalog, tags, manifests, referrers, uploads),
// NAME_INVALID for a bad repository name, DIGEST_INVALID for a bad digest.
func parseBlobPath(p string) (repo string, d digest.Digest, err error) {
	const op = "dataendpoint.parseBlobPath"
	unsupported := func(why string) error {
		return refuse(op, berth.KindNotFound, http.StatusNotFound, codeUnsupported,
			"path %s is not served here: %s; a data endpoint serves only GET and HEAD of %s", quote(p), why, blobPathShape)
	}
	if len(p) > maxPathLength {
		return "", "", unsupported("it is too long")
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !isAlnum(c) && c != '/' && c != '.' && c != '_' && c != '-' && c != ':' {
			return "", "", unsupported("it contains " + quote(p[i:i+1]))
		}
	}
	rest, ok := strings.CutPrefix(p, "/v2/")
	switch {
	case !ok && p != "/v2":
		return "", "", unsupported("it is outside /v2/")
	case !ok || rest == "":
		return "", "", unsupported("it is the API base")
	case rest == "_catalog" || strings.HasPrefix(rest, "_catalog/"):
		return "", "", unsupported("it is the catalog")
	}
	i := strings.LastIndex(rest, "/blobs/")
	if i < 0 {
		for _, s := range [][2]string{{"/tags/", "a tag listing"}, {"/manifests/", "a manifest"}, {"/referrers/", "a referrers listing"}} {
			if strings.Contains("/"+rest+"/", s[0]) {
				return "", "", unsupported("it is " + s[1])
			}
		}
		return "", "", unsupported("it is not a blob path")
	}
	repo, ref := rest[:i], rest[i+len("/blobs/"):]
	if ref == "uploads" || strings.HasPrefix(ref, "uploads/") {
		return "", "", unsupported("uploads are accepted only by the login server")
	}
	if !berth.ValidRepository(repo) {
		return "", "", refuse(op, berth.KindNotFound, http.StatusNotFound, codeNameInvalid,
			"repository name %s in path %s is not valid; want %s", quote(repo), quote(p), blobPathShape)
	}
	if !validDigest(ref) {
		return "", "", refuse(op, berth.KindNotFound, http.StatusNotFound, codeDigestInvalid,
			"%s in path %s is not a sha256 or sha512 digest; want %s", quote(ref), quote(p), blobPathShape)
	}
	return repo, digest.Digest(ref), nil
}

// quote quotes s for a message, cutting it short when long.
func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strconv.Quote(s)
}
