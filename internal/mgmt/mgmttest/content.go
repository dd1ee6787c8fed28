package mgmttest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
	"berth/internal/client"
	"berth/internal/mgmt/api"
)

const imageManifest = "application/vnd.oci.image.manifest.v1+json"

// push stores an image manifest with a config and a layer made from seed
// in repo, tagged tag, and returns its digest and size. It waits a little
// afterwards so that every push has its own time.
func (e *env) push(t *testing.T, registry, repo, tag, seed string) (digest.Digest, int64) {
	t.Helper()
	config, layer := digest.FromString(seed+" config"), digest.FromString(seed+" layer")
	check(t, e.Content.LinkBlob(e.ctx, registry, repo, config, 10))
	check(t, e.Content.LinkBlob(e.ctx, registry, repo, layer, 20))
	payload := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json",`+
		`"digest":%q,"size":10},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":20}]}`,
		imageManifest, config, layer)
	m := &berth.Manifest{Digest: digest.FromString(payload), MediaType: imageManifest, Payload: []byte(payload),
		References: []berth.Reference{{Digest: config}, {Digest: layer}}, CreatedAt: time.Now().UTC()}
	check(t, e.Content.PutManifest(e.ctx, registry, repo, m, tag))
	time.Sleep(5 * time.Millisecond)
	return m.Digest, m.Size()
}

// listOptions shape the lists of the content tests.
type listOptions = client.ListOptions

var listAll = listOptions{}

func listTop(n int) listOptions { return listOptions{Top: n} }

var allEnabled = api.Attributes{DeleteEnabled: true, WriteEnabled: true, ReadEnabled: true, ListEnabled: true}

// deniedFor checks an OperationDenied error whose message names the
// attribute (spelled deleteEnabled, delete-enabled or delete_enabled).
func deniedFor(t *testing.T, err error, attribute string) {
	t.Helper()
	wantErrorContaining(t, err, http.StatusForbidden, api.CodeOperationDenied)
	if err == nil {
		return
	}
	norm := strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(err.Error()))
	if !strings.Contains(norm, strings.ToLower(attribute)) {
		t.Errorf("denial %q does not name %s", err.Error(), attribute)
	}
}

func testRepositories(t *testing.T, e *env) {
	const reg = "content1"
	e.createRegistry(t, api.CreateRegistryRequest{Name: reg, SKU: "Basic"})
	e.push(t, reg, "team/app", "v1", "app v1")
	e.push(t, reg, "base", "latest", "base")

	if got := must(e.c.ListRepositories(e.ctx, reg, listAll))(t); !slices.Equal(got, []string{"base", "team/app"}) {
		t.Errorf("ListRepositories = %q", got)
	}
	if got := must(e.c.ListRepositories(e.ctx, reg, listTop(1)))(t); !slices.Equal(got, []string{"base"}) {
		t.Errorf("ListRepositories(top 1) = %q", got)
	}
	repo := must(e.c.GetRepository(e.ctx, reg, "team/app"))(t)
	if repo.ImageName != "team/app" || repo.Registry != reg+"."+e.Domain || repo.ManifestCount != 1 || repo.TagCount != 1 ||
		repo.ChangeableAttributes != allEnabled || repo.CreatedTime.IsZero() || repo.LastUpdateTime.IsZero() {
		t.Errorf("GetRepository = %+v", repo)
	}

	repo = must(e.c.UpdateRepository(e.ctx, reg, "team/app", api.AttributesUpdate{DeleteEnabled: new(false)}))(t)
	want := api.Attributes{DeleteEnabled: false, WriteEnabled: true, ReadEnabled: true, ListEnabled: true}
	if repo.ChangeableAttributes != want {
		t.Errorf("after deleteEnabled=false: %+v", repo.ChangeableAttributes)
	}
	repo = must(e.c.UpdateRepository(e.ctx, reg, "team/app", api.AttributesUpdate{WriteEnabled: new(false)}))(t)
	want.WriteEnabled = false
	if repo.ChangeableAttributes != want {
		t.Errorf("after writeEnabled=false (merged): %+v, want %+v", repo.ChangeableAttributes, want)
	}
	if got := must(e.c.GetRepository(e.ctx, reg, "team/app"))(t).ChangeableAttributes; got != want {
		t.Errorf("stored attributes = %+v, want %+v", got, want)
	}

	deniedFor(t, e.c.DeleteRepository(e.ctx, reg, "team/app"), "deleteEnabled")
	must(e.c.UpdateRepository(e.ctx, reg, "team/app", api.AttributesUpdate{DeleteEnabled: new(true)}))(t)
	if r := e.authed(t, "DELETE", "/api/v1/registries/content1/repositories/team/app", ""); r.status != http.StatusNoContent {
		t.Fatalf("delete repository: %d %s", r.status, r.body)
	}
	_, err := e.c.GetRepository(e.ctx, reg, "team/app")
	wantError(t, err, http.StatusNotFound, api.CodeRepositoryNotFound, `repository "team/app" not found`)
	if got := must(e.c.ListRepositories(e.ctx, reg, listAll))(t); !slices.Equal(got, []string{"base"}) {
		t.Errorf("after delete ListRepositories = %q", got)
	}
}

func tagNames(tags []api.Tag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, t.Name)
	}
	return out
}

func testTags(t *testing.T, e *env) {
	const reg, repo = "content2", "team/app"
	e.createRegistry(t, api.CreateRegistryRequest{Name: reg, SKU: "Basic"})
	a, _ := e.push(t, reg, repo, "v2", "a")
	b, _ := e.push(t, reg, repo, "v1", "b")
	e.push(t, reg, repo, "latest", "b")

	for _, tc := range []struct {
		opts listOptions
		want []string
	}{
		{listAll, []string{"latest", "v1", "v2"}},
		{listOptions{OrderBy: api.OrderTimeAsc}, []string{"v2", "v1", "latest"}},
		{listOptions{OrderBy: api.OrderTimeDesc}, []string{"latest", "v1", "v2"}},
		{listOptions{OrderBy: api.OrderTimeAsc, Top: 2}, []string{"v2", "v1"}},
		{listTop(1), []string{"latest"}},
	} {
		if got := tagNames(must(e.c.ListTags(e.ctx, reg, repo, tc.opts))(t)); !slices.Equal(got, tc.want) {
			t.Errorf("ListTags(%+v) = %q, want %q", tc.opts, got, tc.want)
		}
	}
	tag := must(e.c.GetTag(e.ctx, reg, repo, "v1"))(t)
	if tag.Name != "v1" || tag.Digest != b.String() || tag.ChangeableAttributes != allEnabled || tag.CreatedTime.IsZero() {
		t.Errorf("GetTag = %+v", tag)
	}

	tag = must(e.c.UpdateTag(e.ctx, reg, repo, "v1", api.AttributesUpdate{WriteEnabled: new(false)}))(t)
	tag = must(e.c.UpdateTag(e.ctx, reg, repo, "v1", api.AttributesUpdate{DeleteEnabled: new(false)}))(t)
	want := api.Attributes{DeleteEnabled: false, WriteEnabled: false, ReadEnabled: true, ListEnabled: true}
	if tag.ChangeableAttributes != want {
		t.Errorf("merged tag attributes = %+v, want %+v", tag.ChangeableAttributes, want)
	}
	if got := must(e.c.GetTag(e.ctx, reg, repo, "v1"))(t).ChangeableAttributes; got != want {
		t.Errorf("stored tag attributes = %+v, want %+v", got, want)
	}
	deniedFor(t, e.c.DeleteTag(e.ctx, reg, repo, "v1"), "deleteEnabled")

	if r := e.authed(t, "DELETE", "/api/v1/registries/content2/tags/v2?repository=team/app", ""); r.status != http.StatusNoContent {
		t.Fatalf("untag: %d %s", r.status, r.body)
	}
	_, err := e.c.GetTag(e.ctx, reg, repo, "v2")
	wantError(t, err, http.StatusNotFound, api.CodeTagNotFound, `tag "v2" not found in repository "team/app"`)
	wantError(t, e.c.DeleteTag(e.ctx, reg, repo, "v2"), http.StatusNotFound, api.CodeTagNotFound, `tag "v2" not found in repository "team/app"`)
	if m := must(e.c.GetManifest(e.ctx, reg, repo, a.String()))(t); len(m.Tags) != 0 {
		t.Errorf("untagged manifest still has tags %q", m.Tags)
	}
	_, err = e.c.ListTags(e.ctx, reg, repo, listOptions{OrderBy: "size"})
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidParameter, `orderby must be "time_asc" or "time_desc", not "size"`)
	wantRawError(t, e.authed(t, "GET", "/api/v1/registries/content2/tags?repository=team/app&top=0", ""),
		http.StatusBadRequest, api.CodeInvalidParameter, `top must be a positive number, not "0"`)
}

func testManifests(t *testing.T, e *env) {
	const reg, repo = "content3", "team/app"
	e.createRegistry(t, api.CreateRegistryRequest{Name: reg, SKU: "Basic"})
	a, sizeA := e.push(t, reg, repo, "v1", "a")
	b, _ := e.push(t, reg, repo, "v2", "b")
	e.push(t, reg, repo, "latest", "b")

	digests := func(ms []api.Manifest) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Digest)
		}
		return out
	}
	if got := digests(must(e.c.ListManifests(e.ctx, reg, repo, listAll))(t)); !slices.Equal(got, []string{b.String(), a.String()}) {
		t.Errorf("ListManifests = %q, want newest first", got)
	}
	asc := must(e.c.ListManifests(e.ctx, reg, repo, listOptions{OrderBy: api.OrderTimeAsc}))(t)
	if got := digests(asc); !slices.Equal(got, []string{a.String(), b.String()}) {
		t.Errorf("ListManifests(time_asc) = %q", got)
	}
	if !slices.Equal(asc[1].Tags, []string{"latest", "v2"}) {
		t.Errorf("tags of %s = %q", b, asc[1].Tags)
	}
	if got := digests(must(e.c.ListManifests(e.ctx, reg, repo, listTop(1)))(t)); !slices.Equal(got, []string{b.String()}) {
		t.Errorf("ListManifests(top 1) = %q", got)
	}
	m := must(e.c.GetManifest(e.ctx, reg, repo, a.String()))(t)
	if m.Digest != a.String() || m.MediaType != imageManifest || m.Size != sizeA || !slices.Equal(m.Tags, []string{"v1"}) ||
		m.ChangeableAttributes != allEnabled || m.CreatedTime.IsZero() {
		t.Errorf("GetManifest = %+v", m)
	}

	must(e.c.UpdateManifest(e.ctx, reg, repo, a.String(), api.AttributesUpdate{ReadEnabled: new(false)}))(t)
	m = must(e.c.UpdateManifest(e.ctx, reg, repo, a.String(), api.AttributesUpdate{DeleteEnabled: new(false)}))(t)
	want := api.Attributes{DeleteEnabled: false, WriteEnabled: true, ReadEnabled: false, ListEnabled: true}
	if m.ChangeableAttributes != want {
		t.Errorf("merged manifest attributes = %+v, want %+v", m.ChangeableAttributes, want)
	}
	if got := must(e.c.GetManifest(e.ctx, reg, repo, a.String()))(t).ChangeableAttributes; got != want {
		t.Errorf("stored manifest attributes = %+v, want %+v", got, want)
	}
	deniedFor(t, e.c.DeleteManifest(e.ctx, reg, repo, a.String()), "deleteEnabled")

	check(t, e.c.DeleteManifest(e.ctx, reg, repo, b.String()))
	notFound := fmt.Sprintf("manifest %q not found in repository %q", b, repo)
	_, err := e.c.GetManifest(e.ctx, reg, repo, b.String())
	wantError(t, err, http.StatusNotFound, api.CodeManifestNotFound, notFound)
	wantError(t, e.c.DeleteManifest(e.ctx, reg, repo, b.String()), http.StatusNotFound, api.CodeManifestNotFound, notFound)
	_, err = e.c.GetTag(e.ctx, reg, repo, "latest")
	wantError(t, err, http.StatusNotFound, api.CodeTagNotFound, `tag "latest" not found in repository "team/app"`)
}

func testContentErrors(t *testing.T, e *env) {
	const reg = "content4"
	e.createRegistry(t, api.CreateRegistryRequest{Name: reg, SKU: "Basic"})
	e.push(t, reg, "team/app", "v1", "a")
	missingRepo := `repository "nope/none" not found`
	_, err := e.c.GetRepository(e.ctx, reg, "nope/none")
	wantError(t, err, http.StatusNotFound, api.CodeRepositoryNotFound, missingRepo)
	_, err = e.c.UpdateRepository(e.ctx, reg, "nope/none", api.AttributesUpdate{})
	wantError(t, err, http.StatusNotFound, api.CodeRepositoryNotFound, missingRepo)
	wantError(t, e.c.DeleteRepository(e.ctx, reg, "nope/none"), http.StatusNotFound, api.CodeRepositoryNotFound, missingRepo)
	_, err = e.c.ListTags(e.ctx, reg, "nope/none", listAll)
	wantError(t, err, http.StatusNotFound, api.CodeRepositoryNotFound, missingRepo)
	_, err = e.c.GetTag(e.ctx, reg, "nope/none", "v1")
	wantError(t, err, http.StatusNotFound, api.CodeRepositoryNotFound, missingRepo)
	_, err = e.c.ListManifests(e.ctx, reg, "nope/none", listAll)
	wantError(t, err, http.StatusNotFound, api.CodeRepositoryNotFound, missingRepo)

	wantRawError(t, e.authed(t, "GET", "/api/v1/registries/content4/tags", ""), http.StatusBadRequest, api.CodeInvalidParameter,
		`the query parameter "repository" is required, e.g. ?repository=team/app`)
	wantRawError(t, e.authed(t, "GET", "/api/v1/registries/content4/manifests", ""), http.StatusBadRequest, api.CodeInvalidParameter,
		`the query parameter "repository" is required, e.g. ?repository=team/app`)
	_, err = e.c.GetRepository(e.ctx, reg, "Team/App")
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidParameter,
		`invalid repository name "Team/App": use lowercase path components of a-z, 0-9 and separators . _ __ -`)
	_, err = e.c.GetTag(e.ctx, reg, "team/app", ".hidden")
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidParameter,
		`invalid tag ".hidden": a tag is 1 to 128 letters, digits, '_', '.' and '-', and does not start with '.' or '-'`)
	_, err = e.c.GetTag(e.ctx, reg, "team/app", "v9")
	wantError(t, err, http.StatusNotFound, api.CodeTagNotFound, `tag "v9" not found in repository "team/app"`)
	_, err = e.c.UpdateTag(e.ctx, reg, "team/app", "v9", api.AttributesUpdate{})
	wantError(t, err, http.StatusNotFound, api.CodeTagNotFound, `tag "v9" not found in repository "team/app"`)
	_, err = e.c.GetManifest(e.ctx, reg, "team/app", "sha256:xyz")
	wantError(t, err, http.StatusBadRequest, api.CodeInvalidParameter,
		`invalid digest "sha256:xyz": want <algorithm>:<hex>, such as sha256:<64 hex digits>`)
	unknown := digest.FromString("unknown")
	_, err = e.c.UpdateManifest(e.ctx, reg, "team/app", unknown.String(), api.AttributesUpdate{})
	wantError(t, err, http.StatusNotFound, api.CodeManifestNotFound, fmt.Sprintf("manifest %q not found in repository \"team/app\"", unknown))
	_, err = e.c.ListRepositories(e.ctx, "nosuchreg", listAll)
	wantError(t, err, http.StatusNotFound, api.CodeRegistryNotFound, `registry "nosuchreg" not found`)
	_, err = e.c.ListTags(e.ctx, "nosuchreg", "team/app", listAll)
	wantError(t, err, http.StatusNotFound, api.CodeRegistryNotFound, `registry "nosuchreg" not found`)
	wantRawError(t, e.authed(t, "PATCH", "/api/v1/registries/content4/repositories/team/app", `{"deleteEnabled": "no"}`),
		http.StatusBadRequest, api.CodeBadRequest, `field "deleteEnabled" must be of JSON type boolean, not string`)
	wantRawError(t, e.authed(t, "PATCH", "/api/v1/registries/content4/repositories/team/app", `{"locked": true}`),
		http.StatusBadRequest, api.CodeBadRequest,
		`unknown field "locked" in the request body; the fields are deleteEnabled, writeEnabled, readEnabled, listEnabled`)
}

func testDeleteRegistry(t *testing.T, e *env) {
	const reg = "doomed1"
	e.createRegistry(t, api.CreateRegistryRequest{Name: reg, SKU: "Premium", AdminUserEnabled: true, DataEndpointEnabled: true})
	must(e.c.CreateScopeMap(e.ctx, reg, api.CreateScopeMapRequest{Name: "app-read", Actions: []string{readApp}}))(t)
	must(e.c.CreateToken(e.ctx, reg, api.CreateTokenRequest{Name: "app-token", ScopeMapName: "app-read"}))(t)
	e.push(t, reg, "team/app", "v1", "a")

	check(t, e.c.DeleteRegistry(e.ctx, reg))
	gone := `registry "doomed1" not found`
	_, err := e.c.GetRegistry(e.ctx, reg)
	wantError(t, err, http.StatusNotFound, api.CodeRegistryNotFound, gone)
	_, err = e.c.ListTokens(e.ctx, reg)
	wantError(t, err, http.StatusNotFound, api.CodeRegistryNotFound, gone)
	_, err = e.c.GetRepository(e.ctx, reg, "team/app")
	wantError(t, err, http.StatusNotFound, api.CodeRegistryNotFound, gone)

	e.createRegistry(t, api.CreateRegistryRequest{Name: reg, SKU: "Basic"})
	if toks := must(e.c.ListTokens(e.ctx, reg))(t); len(toks) != 0 {
		t.Errorf("a registry created again has the old tokens: %+v", toks)
	}
	for _, m := range must(e.c.ListScopeMaps(e.ctx, reg))(t) {
		if m.Type != api.ScopeMapSystemDefined {
			t.Errorf("a registry created again has the old scope map %+v", m)
		}
	}
	if repos := must(e.c.ListRepositories(e.ctx, reg, listAll))(t); len(repos) != 0 {
		t.Errorf("a registry created again has the old repositories %q", repos)
	}
}
