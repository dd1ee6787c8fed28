package oci_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// Tests derived from the "Content discovery" and "Content management"
// sections of the OCI distribution spec v1.1, and the manifest kinds berth
// stores.

func TestManifestKinds(t *testing.T) {
	e := newEnv(t)
	m, md := e.image("a", "1")
	e.expect(e.do("PUT", "/v2/a/manifests/"+md.String(), m, "Content-Type", ociManifest), 201, "")
	cfg := e.pushBlob("a", []byte("{}"))
	layer := e.pushBlob("a", []byte("L"))
	empty := e.pushBlob("a", []byte("{}"))
	docker := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",`+
		`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"%s","size":2},`+
		`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"%s","size":1},`+
		`{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":"%s","size":5,"urls":["https://example.com/x"]}]}`,
		cfg, layer, sha([]byte("foreign")))
	list := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",`+
		`"manifests":[{"mediaType":"%s","digest":"%s","size":%d,"platform":{"architecture":"amd64","os":"linux"}}]}`, ociManifest, md, len(m))
	index := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",`+
		`"manifests":[{"mediaType":"%s","digest":"%s","size":%d}]}`, ociManifest, md, len(m))
	artifact := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"%s","artifactType":"application/vnd.example.sbom",`+
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar","digest":"%s","size":3,"urls":["https://example.com/y"]}]}`,
		ociManifest, empty, sha([]byte("nd")))
	tests := []struct{ name, ct, body string }{
		{"docker schema 2 with foreign layer", "application/vnd.docker.distribution.manifest.v2+json", docker},
		{"docker manifest list", "application/vnd.docker.distribution.manifest.list.v2+json", list},
		{"oci index", "application/vnd.oci.image.index.v1+json", index},
		{"artifact with empty config and non-distributable layer", ociManifest, artifact},
		{"content type from the mediaType field", "", index},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.on(t)
			r := e.do("PUT", "/v2/a/manifests/"+strings.ReplaceAll(tt.name[:4], " ", "-"), []byte(tt.body), "Content-Type", tt.ct)
			e.expect(r, 201, "")
			g := e.do("GET", r.header.Get("Location"), nil)
			e.expect(g, 200, "")
			var mt struct{ MediaType string }
			json.Unmarshal([]byte(tt.body), &mt)
			if g.header.Get("Content-Type") != mt.MediaType || string(g.body) != tt.body {
				t.Errorf("GET returned %q with %q", g.header.Get("Content-Type"), g.body)
			}
		})
	}
}

func TestTagsList(t *testing.T) {
	e := newEnv(t)
	m, _ := e.image("a", "1")
	tags := []string{"v3", "v1", "latest", "v2", "a"}
	for _, tag := range tags {
		e.expect(e.do("PUT", "/v2/a/manifests/"+tag, m, "Content-Type", ociManifest), 201, "")
	}
	var body struct {
		Name string
		Tags []string
	}
	r := e.do("GET", "/v2/a/tags/list", nil)
	e.expect(r, 200, "")
	json.Unmarshal(r.body, &body)
	if body.Name != "a" || strings.Join(body.Tags, ",") != "a,latest,v1,v2,v3" {
		t.Fatalf("tags = %+v", body)
	}
	r = e.do("GET", "/v2/a/tags/list?n=2", nil)
	json.Unmarshal(r.body, &body)
	if strings.Join(body.Tags, ",") != "a,latest" || r.header.Get("Link") != `</v2/a/tags/list?last=latest&n=2>; rel="next"` {
		t.Fatalf("page 1 = %v, Link %q", body.Tags, r.header.Get("Link"))
	}
	r = e.do("GET", "/v2/a/tags/list?n=2&last=latest", nil)
	json.Unmarshal(r.body, &body)
	if strings.Join(body.Tags, ",") != "v1,v2" {
		t.Fatalf("page 2 = %v", body.Tags)
	}
	r = e.do("GET", "/v2/a/tags/list?n=2&last=v2", nil)
	json.Unmarshal(r.body, &body)
	if strings.Join(body.Tags, ",") != "v3" || r.header.Get("Link") != "" {
		t.Fatalf("last page = %v, Link %q", body.Tags, r.header.Get("Link"))
	}
	r = e.do("GET", "/v2/a/tags/list?n=0", nil)
	e.expect(r, 200, "")
	if !strings.Contains(string(r.body), `"tags":[]`) {
		t.Fatalf("n=0: %s", r.body)
	}
	e.expect(e.do("GET", "/v2/a/tags/list?n=-1", nil), 400, "PAGINATION_NUMBER_INVALID")
	e.expect(e.do("GET", "/v2/a/tags/list?n=x", nil), 400, "PAGINATION_NUMBER_INVALID")
	e.expect(e.do("GET", "/v2/nosuch/tags/list", nil), 404, "NAME_UNKNOWN")
}

func TestCatalog(t *testing.T) {
	e := newEnv(t)
	for _, repo := range []string{"c", "a/x", "b"} {
		e.pushBlob(repo, []byte(repo))
	}
	var body struct{ Repositories []string }
	r := e.do("GET", "/v2/_catalog", nil)
	e.expect(r, 200, "")
	json.Unmarshal(r.body, &body)
	if strings.Join(body.Repositories, ",") != "a/x,b,c" {
		t.Fatalf("catalog = %v", body.Repositories)
	}
	r = e.do("GET", "/v2/_catalog?n=1&last=a/x", nil)
	json.Unmarshal(r.body, &body)
	if strings.Join(body.Repositories, ",") != "b" || !strings.Contains(r.header.Get("Link"), "last=b") {
		t.Fatalf("page = %v %q", body.Repositories, r.header.Get("Link"))
	}
}

func TestReferrers(t *testing.T) {
	e := newEnv(t)
	m, md := e.image("a", "1")
	e.expect(e.do("PUT", "/v2/a/manifests/v1", m, "Content-Type", ociManifest), 201, "")
	empty := e.pushBlob("a", []byte("{}"))
	subject := fmt.Sprintf(`,"subject":{"mediaType":"%s","digest":"%s","size":%d}`, ociManifest, md, len(m))
	push := func(artifactType string) digest.Digest {
		body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"%s","artifactType":"%s",`+
			`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[]%s,"annotations":{"k":"v"}}`,
			ociManifest, artifactType, empty, subject)
		r := e.do("PUT", "/v2/a/manifests/"+digest.FromString(body).String(), []byte(body), "Content-Type", ociManifest)
		e.expect(r, 201, "")
		if r.header.Get("OCI-Subject") != md.String() {
			t.Fatalf("OCI-Subject = %q", r.header.Get("OCI-Subject"))
		}
		return digest.FromString(body)
	}
	sig, sbom := push("application/vnd.example.sig"), push("application/vnd.example.sbom")
	type index struct {
		MediaType string
		Manifests []struct {
			Digest       digest.Digest
			ArtifactType string
			Annotations  map[string]string
		}
	}
	var idx index
	r := e.do("GET", "/v2/a/referrers/"+md.String(), nil)
	e.expect(r, 200, "")
	json.Unmarshal(r.body, &idx)
	if r.header.Get("Content-Type") != "application/vnd.oci.image.index.v1+json" || len(idx.Manifests) != 2 || r.header.Get("OCI-Filters-Applied") != "" {
		t.Fatalf("referrers: %v %s", r.header, r.body)
	}
	if idx.Manifests[0].Annotations["k"] != "v" {
		t.Errorf("annotations not listed: %s", r.body)
	}
	r = e.do("GET", "/v2/a/referrers/"+md.String()+"?artifactType=application/vnd.example.sig", nil)
	idx = index{}
	json.Unmarshal(r.body, &idx)
	if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != sig || r.header.Get("OCI-Filters-Applied") != "artifactType" {
		t.Fatalf("filtered: %v %s", r.header, r.body)
	}
	// A subject with no referrers (or unknown) gives an empty index.
	r = e.do("GET", "/v2/a/referrers/"+sha([]byte("none")), nil)
	e.expect(r, 200, "")
	if !strings.Contains(string(r.body), `"manifests":[]`) {
		t.Fatalf("empty referrers: %s", r.body)
	}
	e.expect(e.do("GET", "/v2/a/referrers/notadigest", nil), 400, "DIGEST_INVALID")
	// Deleting a referrer removes it from the list.
	e.expect(e.do("DELETE", "/v2/a/manifests/"+sbom.String(), nil), 202, "")
	idx = index{}
	json.Unmarshal(e.do("GET", "/v2/a/referrers/"+md.String(), nil).body, &idx)
	if len(idx.Manifests) != 1 {
		t.Fatalf("after delete: %+v", idx)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	m, md := e.image("a", "1")
	e.expect(e.do("PUT", "/v2/a/manifests/v1", m, "Content-Type", ociManifest), 201, "")
	e.expect(e.do("PUT", "/v2/a/manifests/v2", m, "Content-Type", ociManifest), 201, "")
	// Deleting a tag leaves the manifest and the other tag.
	e.expect(e.do("DELETE", "/v2/a/manifests/v2", nil), 202, "")
	e.expect(e.do("GET", "/v2/a/manifests/v2", nil), 404, "MANIFEST_UNKNOWN")
	e.expect(e.do("GET", "/v2/a/manifests/v1", nil), 200, "")
	e.expect(e.do("DELETE", "/v2/a/manifests/v2", nil), 404, "MANIFEST_UNKNOWN")
	// Deleting by digest removes the manifest and its tags.
	e.expect(e.do("DELETE", "/v2/a/manifests/"+md.String(), nil), 202, "")
	e.expect(e.do("GET", "/v2/a/manifests/"+md.String(), nil), 404, "MANIFEST_UNKNOWN")
	e.expect(e.do("GET", "/v2/a/manifests/v1", nil), 404, "MANIFEST_UNKNOWN")
	e.expect(e.do("DELETE", "/v2/a/manifests/"+md.String(), nil), 404, "MANIFEST_UNKNOWN")
	// Blobs.
	layer := sha([]byte("layer-1"))
	e.expect(e.do("DELETE", "/v2/a/blobs/"+layer, nil), 202, "")
	e.expect(e.do("GET", "/v2/a/blobs/"+layer, nil), 404, "BLOB_UNKNOWN")
	e.expect(e.do("DELETE", "/v2/a/blobs/"+layer, nil), 404, "BLOB_UNKNOWN")
	e.expect(e.do("DELETE", "/v2/a/blobs/sha256:zz", nil), 400, "DIGEST_INVALID")
	// Methods an endpoint does not have.
	r := e.do("POST", "/v2/a/manifests/v1", nil)
	e.expect(r, 405, "UNSUPPORTED")
	if r.header.Get("Allow") == "" {
		t.Errorf("405 without Allow")
	}
	e.expect(e.do("PUT", "/v2/a/blobs/"+layer, nil), 405, "UNSUPPORTED")
}
