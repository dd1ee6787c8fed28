package main

import (
	"slices"
	"strings"
	"testing"

	"berth/internal/mgmt/api"
)

func testRepositoryCommands(t *testing.T, e *cliEnv) {
	const reg = "content1"
	e.createRegistry(t, reg, "Basic")
	v1 := e.push(t, reg, "team/app", "v1", "one")
	v2 := e.push(t, reg, "team/app", "v2", "two")
	e.push(t, reg, "team/app", "latest", "two")
	e.push(t, reg, "web", "stable", "web")

	var repos []string
	e.okJSON(t, &repos, "repository", "list", "-r", reg)
	if !slices.Equal(repos, []string{"team/app", "web"}) {
		t.Errorf("list = %v", repos)
	}
	if out := e.ok(t, "repository", "list", "-r", reg, "--top", "1", "-o", "tsv"); out != "team/app\n" {
		t.Errorf("list --top 1 -o tsv = %q", out)
	}
	if out := e.ok(t, "repository", "list", "-r", reg, "-o", "table"); out != "Result\n--------\nteam/app\nweb\n" {
		t.Errorf("list -o table = %q", out)
	}

	var repo api.Repository
	e.okJSON(t, &repo, "repository", "show", "-r", reg, "--repository", "team/app")
	if repo.ImageName != "team/app" || repo.TagCount != 3 || repo.ManifestCount != 2 || !repo.ChangeableAttributes.DeleteEnabled {
		t.Errorf("show repository = %+v", repo)
	}
	var tag api.Tag
	e.okJSON(t, &tag, "repository", "show", "-r", reg, "--image", "team/app:v1")
	if tag.Name != "v1" || tag.Digest != v1.String() {
		t.Errorf("show tag = %+v", tag)
	}
	var m api.Manifest
	e.okJSON(t, &m, "repository", "show", "-r", reg, "-t", "team/app@"+v2.String())
	if m.Digest != v2.String() || !sameSet(m.Tags, []string{"v2", "latest"}) {
		t.Errorf("show manifest = %+v", m)
	}

	var names []string
	e.okJSON(t, &names, "repository", "show-tags", "-r", reg, "--repository", "team/app")
	if !slices.Equal(names, []string{"latest", "v1", "v2"}) {
		t.Errorf("show-tags = %v", names)
	}
	e.okJSON(t, &names, "repository", "show-tags", "-r", reg, "--repository", "team/app", "--orderby", "time_desc", "--top", "2")
	if !slices.Equal(names, []string{"latest", "v2"}) {
		t.Errorf("show-tags --orderby time_desc --top 2 = %v", names)
	}
	var tags []api.Tag
	e.okJSON(t, &tags, "repository", "show-tags", "-r", reg, "--repository", "team/app", "--detail", "--orderby", "time_asc")
	if len(tags) != 3 || tags[0].Name != "v1" || tags[0].Digest != v1.String() {
		t.Errorf("show-tags --detail = %+v", tags)
	}
	out := e.ok(t, "repository", "show-tags", "-r", reg, "--repository", "team/app", "--detail", "-o", "table")
	if !strings.HasPrefix(out, "NAME    DIGEST") || !strings.Contains(out, "\nv1      "+v1.String()) {
		t.Errorf("show-tags --detail -o table:\n%s", out)
	}

	e.okJSON(t, &tag, "repository", "update", "-r", reg, "--image", "team/app:v1", "--write-enabled", "false", "--delete-enabled", "false")
	if a := tag.ChangeableAttributes; a.WriteEnabled || a.DeleteEnabled || !a.ReadEnabled || !a.ListEnabled {
		t.Errorf("update tag = %+v", a)
	}
	e.okJSON(t, &m, "repository", "update", "-r", reg, "--image", "team/app@"+v2.String(), "--list-enabled=false")
	if a := m.ChangeableAttributes; a.ListEnabled || !a.DeleteEnabled {
		t.Errorf("update manifest = %+v", a)
	}
	e.okJSON(t, &repo, "repository", "update", "-r", reg, "--repository", "web", "--read-enabled", "false")
	if a := repo.ChangeableAttributes; a.ReadEnabled || !a.WriteEnabled {
		t.Errorf("update repository = %+v", a)
	}
	e.fails(t, "repository update: nothing to change; give --delete-enabled, --write-enabled, --read-enabled or --list-enabled",
		"repository", "update", "-r", reg, "--repository", "web")

	_, _, err := e.run(t, "repository", "untag", "-r", reg, "--image", "team/app:v1")
	if err == nil || !strings.HasPrefix(err.Error(), "repository untag: ") || !strings.Contains(strings.ToLower(err.Error()), "delete") {
		t.Errorf("untag of a locked tag: %v", err)
	}
	e.ok(t, "repository", "untag", "-r", reg, "--image", "team/app:latest")
	e.okJSON(t, &names, "repository", "show-tags", "-r", reg, "--repository", "team/app")
	if !slices.Equal(names, []string{"v1", "v2"}) {
		t.Errorf("after untag: %v", names)
	}
	e.fails(t, `repository show: tag "latest" not found in repository "team/app"`, "repository", "show", "-r", reg, "--image", "team/app:latest")

	e.ok(t, "repository", "delete", "-r", reg, "--image", "team/app:v2", "--yes")
	e.okJSON(t, &repo, "repository", "show", "-r", reg, "--repository", "team/app")
	if repo.ManifestCount != 1 || repo.TagCount != 1 {
		t.Errorf("after deleting the manifest of v2: %+v", repo)
	}
	e.ok(t, "repository", "delete", "-r", reg, "--repository", "web", "-y")
	e.okJSON(t, &repos, "repository", "list", "-r", reg)
	if !slices.Equal(repos, []string{"team/app"}) {
		t.Errorf("after deleting web: %v", repos)
	}

	e.fails(t, "repository show: give --repository REPO or --image REPO:TAG (or REPO@DIGEST)", "repository", "show", "-r", reg)
	e.fails(t, "repository show: give --repository or --image, not both",
		"repository", "show", "-r", reg, "--repository", "a", "--image", "a:b")
	e.fails(t, `repository show: image "team/app" must be repository:tag or repository@digest, such as team/app:v1`,
		"repository", "show", "-r", reg, "--image", "team/app")
	e.fails(t, `repository show: image "team/app@v1": the digest must read algorithm:hex, such as sha256:<64 hex digits>`,
		"repository", "show", "-r", reg, "--image", "team/app@v1")
	e.fails(t, "repository untag: untag needs repository:tag, not a digest",
		"repository", "untag", "-r", reg, "--image", "team/app@"+v1.String())
	e.fails(t, `repository show-tags: --orderby must be time_desc or time_asc, not "newest"`,
		"repository", "show-tags", "-r", reg, "--repository", "team/app", "--orderby", "newest")
	e.fails(t, `repository show: repository "nosuch/repo" not found`, "repository", "show", "-r", reg, "--repository", "nosuch/repo")
}

func testManifestCommands(t *testing.T, e *cliEnv) {
	const reg = "content2"
	e.createRegistry(t, reg, "Basic")
	old := e.push(t, reg, "team/app", "v1", "one")
	cur := e.push(t, reg, "team/app", "v2", "two")

	var ms []api.Manifest
	e.okJSON(t, &ms, "manifest", "list-metadata", "-r", reg, "-n", "team/app")
	if len(ms) != 2 || ms[0].Digest != cur.String() || ms[1].Digest != old.String() {
		t.Errorf("list-metadata = %+v", ms)
	}
	e.okJSON(t, &ms, "manifest", "list-metadata", "-r", reg, "--name", "team/app", "--orderby", "time_asc", "--top", "1")
	if len(ms) != 1 || ms[0].Digest != old.String() {
		t.Errorf("list-metadata --orderby time_asc --top 1 = %+v", ms)
	}
	out := e.ok(t, "manifest", "list-metadata", "-r", reg, "-n", "team/app", "-o", "tsv")
	want := cur.String() + "\tv2\tapplication/vnd.oci.image.manifest.v1+json\t"
	if !strings.HasPrefix(out, want) {
		t.Errorf("list-metadata -o tsv = %q, want it to start with %q", out, want)
	}

	var m api.Manifest
	e.okJSON(t, &m, "manifest", "show-metadata", "-r", reg, "--image", "team/app:v1")
	if m.Digest != old.String() || !slices.Equal(m.Tags, []string{"v1"}) {
		t.Errorf("show-metadata by tag = %+v", m)
	}
	e.okJSON(t, &m, "manifest", "show-metadata", "-r", reg, "-n", "team/app@"+cur.String())
	if m.Digest != cur.String() {
		t.Errorf("show-metadata by digest = %+v", m)
	}
	e.fails(t, "manifest show-metadata: give --image REPO:TAG or REPO@DIGEST", "manifest", "show-metadata", "-r", reg)
	e.fails(t, `manifest show-metadata: tag "v9" not found in repository "team/app"`, "manifest", "show-metadata", "-r", reg, "--image", "team/app:v9")

	e.ok(t, "manifest", "delete", "-r", reg, "--image", "team/app:v1", "-y")
	e.ok(t, "manifest", "delete", "-r", reg, "--name", "team/app@"+cur.String(), "--yes")
	e.okJSON(t, &ms, "manifest", "list-metadata", "-r", reg, "-n", "team/app")
	if len(ms) != 0 {
		t.Errorf("after deleting both: %+v", ms)
	}
}

func testConfirmation(t *testing.T, e *cliEnv) {
	e.createRegistry(t, "keepme", "Basic")
	e.ok(t, "scope-map", "create", "-r", "keepme", "-n", "keep-map", "--repository", "a", "content/read")
	e.ok(t, "token", "create", "-r", "keepme", "-n", "keep-token", "--scope-map", "keep-map", "--no-passwords")
	e.push(t, "keepme", "app", "v1", "keep")
	const hint = " without confirmation: there is no terminal to ask; add --yes (-y)"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"registry", "delete", "-n", "keepme"}, `registry delete: refusing to delete registry "keepme" with all its content`},
		{[]string{"scope-map", "delete", "-r", "keepme", "-n", "keep-map"}, `scope-map delete: refusing to delete scope map "keep-map" of registry "keepme"`},
		{[]string{"token", "delete", "-r", "keepme", "-n", "keep-token"}, `token delete: refusing to delete token "keep-token" of registry "keepme"`},
		{[]string{"repository", "delete", "-r", "keepme", "--repository", "app"},
			`repository delete: refusing to delete repository "app" of registry "keepme" with all its manifests and tags`},
		{[]string{"manifest", "delete", "-r", "keepme", "--image", "app:v1"},
			`manifest delete: refusing to delete the manifest of app:v1 in registry "keepme" with every tag that points to it`},
	} {
		e.fails(t, tc.want+hint, tc.args...)
	}
	var tags []string
	e.okJSON(t, &tags, "repository", "show-tags", "-r", "keepme", "--repository", "app")
	e.ok(t, "token", "show", "-r", "keepme", "-n", "keep-token")
	if len(tags) != 1 {
		t.Errorf("a refused delete removed content: %v", tags)
	}
}
