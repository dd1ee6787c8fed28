package metadatatest

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// newRegistry creates registry name in location eastus.
func newRegistry(t *testing.T, s Store, name string) {
	t.Helper()
	must(t, s.CreateRegistry(t.Context(), berth.Registry{Name: name, Location: "eastus"}))
}

func testSettings(t *testing.T, s Store) {
	ctx := t.Context()
	premium := berth.Settings{SKU: berth.SKUPremium, AdminUserEnabled: true, DataEndpointEnabled: true, DataEndpointURLTTL: 5 * time.Minute}
	created := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	must(t, s.CreateRegistry(ctx, berth.Registry{
		Name: "contoso", Location: "eastus", Aliases: []string{"contoso.test"}, Settings: premium, CreatedAt: created,
	}))
	newRegistry(t, s, "plain")

	wantSettings := func(name string, want berth.Settings) {
		t.Helper()
		r, err := s.Registry(ctx, name)
		must(t, err)
		if r.Settings != want {
			t.Fatalf("Registry(%q).Settings = %+v, want %+v", name, r.Settings, want)
		}
	}
	wantSettings("contoso", premium)
	wantSettings("plain", berth.Settings{})
	r, err := s.RegistryByAlias(ctx, "contoso.test")
	must(t, err)
	if r.Settings != premium {
		t.Fatalf("RegistryByAlias settings = %+v, want %+v", r.Settings, premium)
	}
	list, err := s.Registries(ctx)
	must(t, err)
	if len(list) != 2 || list[0].Settings != premium || list[1].Settings != (berth.Settings{}) {
		t.Fatalf("Registries = %+v", list)
	}

	basic := berth.Settings{SKU: berth.SKUBasic, AnonymousPullEnabled: true, DataEndpointURLTTL: 90 * time.Second}
	must(t, s.UpdateSettings(ctx, "contoso", basic))
	wantSettings("contoso", basic)
	wantSettings("plain", berth.Settings{})
	r, err = s.Registry(ctx, "contoso")
	must(t, err)
	if r.Location != "eastus" || !r.CreatedAt.Equal(created) || !slices.Equal(r.Aliases, []string{"contoso.test"}) {
		t.Fatalf("UpdateSettings changed more than the settings: %+v", r)
	}
	must(t, s.UpdateSettings(ctx, "contoso", berth.Settings{}))
	wantSettings("contoso", berth.Settings{})

	wantKind(t, s.UpdateSettings(ctx, "missing", premium), berth.KindNotFound)
	_, err = s.Registry(ctx, "missing")
	wantKind(t, err, berth.KindNotFound)
}

// wantSecrets fails the test unless the secrets of owner are want, in order.
func wantSecrets(t *testing.T, s Store, registry, owner string, want ...berth.Secret) {
	t.Helper()
	got, err := s.Secrets(t.Context(), registry, owner)
	must(t, err)
	if got == nil {
		t.Fatalf("Secrets(%q, %q) = nil, want a list", registry, owner)
	}
	if len(got) != len(want) {
		t.Fatalf("Secrets(%q, %q) = %+v, want %+v", registry, owner, got, want)
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.Name || !bytes.Equal(g.Hash, w.Hash) || !g.CreatedAt.Equal(w.CreatedAt) || !g.Expiry.Equal(w.Expiry) {
			t.Fatalf("secret %d of %q = %+v, want %+v", i, owner, g, w)
		}
	}
}

func testSecrets(t *testing.T, s Store) {
	ctx := t.Context()
	newRegistry(t, s, "r")
	newRegistry(t, s, "r2")
	wantSecrets(t, s, "r", berth.AdminOwner)

	t0 := time.Date(2024, 3, 1, 0, 0, 0, 1, time.UTC)
	p1 := berth.Secret{Name: "password1", Hash: []byte("$2a$10$one\x00\xff"), CreatedAt: t0}
	p2 := berth.Secret{Name: "password2", Hash: []byte("12345"), CreatedAt: t0.Add(time.Hour), Expiry: t0.Add(48 * time.Hour)}
	must(t, s.PutSecret(ctx, "r", berth.AdminOwner, p2))
	must(t, s.PutSecret(ctx, "r", berth.AdminOwner, p1))
	wantSecrets(t, s, "r", berth.AdminOwner, p1, p2)

	// Owners and registries are apart.
	ci := berth.Secret{Name: "password1", Hash: []byte("ci hash"), CreatedAt: t0}
	must(t, s.PutSecret(ctx, "r", berth.TokenOwner("ci"), ci))
	other := berth.Secret{Name: "password1", Hash: []byte("other registry"), CreatedAt: t0}
	must(t, s.PutSecret(ctx, "r2", berth.AdminOwner, other))
	wantSecrets(t, s, "r", berth.AdminOwner, p1, p2)
	wantSecrets(t, s, "r", berth.TokenOwner("ci"), ci)
	wantSecrets(t, s, "r2", berth.AdminOwner, other)
	wantSecrets(t, s, "r2", berth.TokenOwner("ci"))

	// Replacing takes every field; a zero expiry is no expiry, a zero
	// creation time is now.
	p1b := berth.Secret{Name: "password1", Hash: []byte("new hash")}
	must(t, s.PutSecret(ctx, "r", berth.AdminOwner, p1b))
	got, err := s.Secrets(ctx, "r", berth.AdminOwner)
	must(t, err)
	if len(got) != 2 || string(got[0].Hash) != "new hash" || !got[0].Expiry.IsZero() ||
		time.Since(got[0].CreatedAt) > time.Hour {
		t.Fatalf("replaced secret = %+v", got)
	}
	p2b := p2
	p2b.Expiry = time.Time{}
	must(t, s.PutSecret(ctx, "r", berth.AdminOwner, p2b))
	p1b.CreatedAt = got[0].CreatedAt
	wantSecrets(t, s, "r", berth.AdminOwner, p1b, p2b)

	must(t, s.DeleteSecret(ctx, "r", berth.AdminOwner, "password1"))
	wantSecrets(t, s, "r", berth.AdminOwner, p2b)
	wantSecrets(t, s, "r", berth.TokenOwner("ci"), ci)
	wantSecrets(t, s, "r2", berth.AdminOwner, other)
	wantKind(t, s.DeleteSecret(ctx, "r", berth.AdminOwner, "password1"), berth.KindNotFound)
	wantKind(t, s.DeleteSecret(ctx, "r2", berth.TokenOwner("ci"), "password1"), berth.KindNotFound)

	wantKind(t, s.PutSecret(ctx, "missing", berth.AdminOwner, p1), berth.KindNotFound)
	wantSecrets(t, s, "missing", berth.AdminOwner)
	wantKind(t, s.PutSecret(ctx, "r", berth.AdminOwner, berth.Secret{Hash: []byte("x")}), berth.KindInvalid)
	wantKind(t, s.PutSecret(ctx, "r", berth.AdminOwner, berth.Secret{Name: "password1"}), berth.KindInvalid)
	wantKind(t, s.PutSecret(ctx, "r", "", p1), berth.KindInvalid)
}

// wantScopeMap fails the test unless the stored scope map want.Name is want.
func wantScopeMap(t *testing.T, s Store, want berth.ScopeMap) {
	t.Helper()
	got, err := s.ScopeMap(t.Context(), want.Registry, want.Name)
	must(t, err)
	if got.Registry != want.Registry || got.Name != want.Name || got.Description != want.Description ||
		!slices.Equal(got.Actions, want.Actions) || got.BuiltIn || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("ScopeMap(%q) = %+v, want %+v", want.Name, got, want)
	}
}

func testScopeMaps(t *testing.T, s Store) {
	ctx := t.Context()
	newRegistry(t, s, "r")
	newRegistry(t, s, "r2")
	maps, err := s.ScopeMaps(ctx, "r")
	must(t, err)
	if maps == nil || len(maps) != 0 {
		t.Fatalf("ScopeMaps of a new registry = %#v", maps)
	}

	created := time.Date(2024, 2, 3, 4, 5, 6, 7, time.UTC)
	pull := berth.ScopeMap{
		Registry: "r", Name: "pull", Description: "pulls app",
		Actions:   []string{"repositories/app/content/read", "repositories/app/metadata/read"},
		BuiltIn:   true, // never stored
		CreatedAt: created,
	}
	must(t, s.CreateScopeMap(ctx, pull))
	pull.BuiltIn = false
	wantScopeMap(t, s, pull)
	empty := berth.ScopeMap{Registry: "r", Name: "empty", CreatedAt: created}
	must(t, s.CreateScopeMap(ctx, empty))
	wantScopeMap(t, s, empty)
	must(t, s.CreateScopeMap(ctx, berth.ScopeMap{Registry: "r2", Name: "pull", Actions: []string{"repositories/*/content/read"}}))

	dup := pull
	dup.Description = "another"
	wantKind(t, s.CreateScopeMap(ctx, dup), berth.KindExists)
	wantScopeMap(t, s, pull)
	wantKind(t, s.CreateScopeMap(ctx, berth.ScopeMap{Registry: "missing", Name: "m"}), berth.KindNotFound)
	wantKind(t, s.CreateScopeMap(ctx, berth.ScopeMap{Registry: "r"}), berth.KindInvalid)

	maps, err = s.ScopeMaps(ctx, "r")
	must(t, err)
	if len(maps) != 2 || maps[0].Name != "empty" || maps[1].Name != "pull" || len(maps[1].Actions) != 2 {
		t.Fatalf("ScopeMaps = %+v", maps)
	}

	pull.Description = "pulls and pushes app"
	pull.Actions = append(pull.Actions, "repositories/app/content/write")
	update := pull
	update.CreatedAt = time.Now() // not updated
	must(t, s.UpdateScopeMap(ctx, update))
	wantScopeMap(t, s, pull)
	got, err := s.ScopeMap(ctx, "r2", "pull")
	must(t, err)
	if !slices.Equal(got.Actions, []string{"repositories/*/content/read"}) {
		t.Fatalf("updating r/pull changed r2/pull to %+v", got)
	}
	wantKind(t, s.UpdateScopeMap(ctx, berth.ScopeMap{Registry: "r", Name: "missing"}), berth.KindNotFound)
	_, err = s.ScopeMap(ctx, "r", "missing")
	wantKind(t, err, berth.KindNotFound)

	// A map in use cannot go.
	must(t, s.CreateToken(ctx, berth.Token{Registry: "r", Name: "ci", ScopeMap: "pull", Enabled: true}))
	must(t, s.CreateToken(ctx, berth.Token{Registry: "r", Name: "bot", ScopeMap: "pull"}))
	err = s.DeleteScopeMap(ctx, "r", "pull")
	wantKind(t, err, berth.KindConflict)
	if msg := berth.Message(err); !strings.Contains(msg, `"pull"`) || !strings.Contains(msg, `"bot"`) {
		t.Fatalf("message %q does not name the scope map and the token that uses it", msg)
	}
	wantScopeMap(t, s, pull)
	must(t, s.DeleteToken(ctx, "r", "bot"))
	wantKind(t, s.DeleteScopeMap(ctx, "r", "pull"), berth.KindConflict)
	must(t, s.UpdateToken(ctx, berth.Token{Registry: "r", Name: "ci", ScopeMap: "empty", Enabled: true}))
	must(t, s.DeleteScopeMap(ctx, "r", "pull"))
	_, err = s.ScopeMap(ctx, "r", "pull")
	wantKind(t, err, berth.KindNotFound)
	wantKind(t, s.DeleteScopeMap(ctx, "r", "pull"), berth.KindNotFound)
	if _, err := s.ScopeMap(ctx, "r2", "pull"); err != nil {
		t.Fatalf("deleting r/pull removed r2/pull: %v", err)
	}
	// The same name can be created again.
	must(t, s.CreateScopeMap(ctx, berth.ScopeMap{Registry: "r", Name: "pull"}))
}

func testTokens(t *testing.T, s Store) {
	ctx := t.Context()
	newRegistry(t, s, "r")
	newRegistry(t, s, "r2")
	tokens, err := s.Tokens(ctx, "r")
	must(t, err)
	if tokens == nil || len(tokens) != 0 {
		t.Fatalf("Tokens of a new registry = %#v", tokens)
	}

	created := time.Date(2024, 4, 5, 6, 7, 8, 9, time.UTC)
	ci := berth.Token{Registry: "r", Name: "ci", ScopeMap: "_repositories_push", Enabled: true, CreatedAt: created}
	must(t, s.CreateToken(ctx, ci)) // a built-in map, not stored: not checked
	must(t, s.CreateToken(ctx, berth.Token{Registry: "r", Name: "bot", ScopeMap: "no such map"}))
	must(t, s.CreateToken(ctx, berth.Token{Registry: "r2", Name: "ci", ScopeMap: "other"}))
	wantKind(t, s.CreateToken(ctx, berth.Token{Registry: "r", Name: "ci", ScopeMap: "x"}), berth.KindExists)
	wantKind(t, s.CreateToken(ctx, berth.Token{Registry: "missing", Name: "ci"}), berth.KindNotFound)
	wantKind(t, s.CreateToken(ctx, berth.Token{Registry: "r"}), berth.KindInvalid)

	got, err := s.Token(ctx, "r", "ci")
	must(t, err)
	if got != ci {
		t.Fatalf("Token = %+v, want %+v", got, ci)
	}
	bot, err := s.Token(ctx, "r", "bot")
	must(t, err)
	if bot.Enabled || bot.ScopeMap != "no such map" || time.Since(bot.CreatedAt) > time.Hour {
		t.Fatalf("Token(bot) = %+v", bot)
	}
	tokens, err = s.Tokens(ctx, "r")
	must(t, err)
	if len(tokens) != 2 || tokens[0].Name != "bot" || tokens[1] != ci {
		t.Fatalf("Tokens = %+v", tokens)
	}

	must(t, s.UpdateToken(ctx, berth.Token{Registry: "r", Name: "ci", ScopeMap: "_repositories_pull"}))
	got, err = s.Token(ctx, "r", "ci")
	must(t, err)
	if got.ScopeMap != "_repositories_pull" || got.Enabled || !got.CreatedAt.Equal(created) {
		t.Fatalf("updated token = %+v", got)
	}
	if other, err := s.Token(ctx, "r2", "ci"); err != nil || other.ScopeMap != "other" {
		t.Fatalf("token of r2 after updating r's = %+v, %v", other, err)
	}
	wantKind(t, s.UpdateToken(ctx, berth.Token{Registry: "r", Name: "missing"}), berth.KindNotFound)
	_, err = s.Token(ctx, "r", "missing")
	wantKind(t, err, berth.KindNotFound)

	// Deleting a token takes its secrets, and no one else's.
	secret := berth.Secret{Name: "password1", Hash: []byte("h"), CreatedAt: created}
	for _, owner := range []string{berth.TokenOwner("ci"), berth.TokenOwner("bot"), berth.AdminOwner} {
		must(t, s.PutSecret(ctx, "r", owner, secret))
	}
	must(t, s.PutSecret(ctx, "r", berth.TokenOwner("ci"), berth.Secret{Name: "password2", Hash: []byte("h2"), CreatedAt: created}))
	must(t, s.PutSecret(ctx, "r2", berth.TokenOwner("ci"), secret))
	must(t, s.DeleteToken(ctx, "r", "ci"))
	_, err = s.Token(ctx, "r", "ci")
	wantKind(t, err, berth.KindNotFound)
	wantSecrets(t, s, "r", berth.TokenOwner("ci"))
	wantSecrets(t, s, "r", berth.TokenOwner("bot"), secret)
	wantSecrets(t, s, "r", berth.AdminOwner, secret)
	wantSecrets(t, s, "r2", berth.TokenOwner("ci"), secret)
	wantKind(t, s.DeleteToken(ctx, "r", "ci"), berth.KindNotFound)

	// A new token of the same name has none of the old one's secrets.
	must(t, s.CreateToken(ctx, berth.Token{Registry: "r", Name: "ci", ScopeMap: "x"}))
	wantSecrets(t, s, "r", berth.TokenOwner("ci"))
}

func testDeleteRegistry(t *testing.T, s Store) {
	ctx := t.Context()
	for _, name := range []string{"doomed", "kept"} {
		must(t, s.CreateRegistry(ctx, berth.Registry{
			Name: name, Location: "eastus", Aliases: []string{name + ".test"},
			Settings: berth.Settings{SKU: berth.SKUPremium, AdminUserEnabled: true},
		}))
		must(t, s.PutSecret(ctx, name, berth.AdminOwner, berth.Secret{Name: "password1", Hash: []byte("h")}))
		must(t, s.CreateScopeMap(ctx, berth.ScopeMap{Registry: name, Name: "pull", Actions: []string{"repositories/*/content/read"}}))
		must(t, s.CreateToken(ctx, berth.Token{Registry: name, Name: "ci", ScopeMap: "pull", Enabled: true}))
		must(t, s.PutSecret(ctx, name, berth.TokenOwner("ci"), berth.Secret{Name: "password1", Hash: []byte("h")}))
		putImage(t, s, name, "app", "m", "v1")
		child := putImage(t, s, name, "app", "child", "")
		index := newManifest("index", manifestRef(child.Digest))
		must(t, s.PutManifest(ctx, name, "app", index, "latest"))
		must(t, s.CreateUpload(ctx, berth.Upload{ID: "u", Registry: name, Repository: "app", Algorithm: "sha256"}))
	}
	// Content and attributes do not hold a registry back.
	linkBlob(t, s, "doomed", "locked", "config m")
	linkBlob(t, s, "doomed", "locked", "layer m")
	m := newManifest("m", blobRef(digest.FromString("config m")), blobRef(digest.FromString("layer m")))
	must(t, s.PutManifest(ctx, "doomed", "locked", m, "v1"))
	none := berth.Attributes{}
	must(t, s.SetTagAttributes(ctx, "doomed", "locked", "v1", none))
	must(t, s.SetManifestAttributes(ctx, "doomed", "locked", m.Digest, none))
	must(t, s.SetRepositoryAttributes(ctx, "doomed", "locked", none))

	must(t, s.DeleteRegistry(ctx, "doomed"))
	wantKind(t, s.DeleteRegistry(ctx, "doomed"), berth.KindNotFound)
	wantKind(t, s.DeleteRegistry(ctx, "never"), berth.KindNotFound)
	wantRegistryEmpty(t, s, "doomed", m.Digest)

	// A registry of the same name starts empty, and may take the alias.
	must(t, s.CreateRegistry(ctx, berth.Registry{Name: "doomed", Location: "westus", Aliases: []string{"doomed.test"}}))
	r, err := s.RegistryByAlias(ctx, "doomed.test")
	must(t, err)
	if r.Name != "doomed" || r.Location != "westus" || r.Settings != (berth.Settings{}) {
		t.Fatalf("new registry = %+v", r)
	}
	wantRegistryEmpty(t, s, "doomed", m.Digest)

	// The other registry has everything still.
	r, err = s.RegistryByAlias(ctx, "kept.test")
	must(t, err)
	if r.Name != "kept" || r.SKU != berth.SKUPremium {
		t.Fatalf("kept registry = %+v", r)
	}
	secrets, err := s.Secrets(ctx, "kept", berth.TokenOwner("ci"))
	must(t, err)
	if len(secrets) != 1 {
		t.Fatalf("kept token secrets = %+v", secrets)
	}
	if _, err := s.Token(ctx, "kept", "ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ScopeMap(ctx, "kept", "pull"); err != nil {
		t.Fatal(err)
	}
	wantTag(t, s, "kept", "app", "v1", m.Digest)
	if _, err := s.Upload(ctx, "kept", "u"); err != nil {
		t.Fatal(err)
	}
	repos, err := s.Repositories(ctx, "kept", "", 0)
	must(t, err)
	wantStrings(t, "repositories of kept", repos, []string{"app"})
}

// wantRegistryEmpty fails the test if registry holds anything but its own
// record: secrets, scope maps, tokens, repositories, manifests, tags, blobs,
// uploads. m is a manifest it held.
func wantRegistryEmpty(t *testing.T, s Store, registry string, m digest.Digest) {
	t.Helper()
	ctx := t.Context()
	wantSecrets(t, s, registry, berth.AdminOwner)
	wantSecrets(t, s, registry, berth.TokenOwner("ci"))
	maps, err := s.ScopeMaps(ctx, registry)
	must(t, err)
	tokens, err := s.Tokens(ctx, registry)
	must(t, err)
	repos, err := s.Repositories(ctx, registry, "", 0)
	must(t, err)
	if len(maps) != 0 || len(tokens) != 0 || len(repos) != 0 {
		t.Fatalf("registry %q holds scope maps %+v, tokens %+v, repositories %q", registry, maps, tokens, repos)
	}
	for _, repo := range []string{"app", "locked"} {
		ok, err := s.RepositoryExists(ctx, registry, repo)
		must(t, err)
		if ok {
			t.Fatalf("repository %q of %q exists", repo, registry)
		}
		_, err = s.Manifest(ctx, registry, repo, m)
		wantKind(t, err, berth.KindNotFound)
		_, err = s.Tag(ctx, registry, repo, "v1")
		wantKind(t, err, berth.KindNotFound)
		_, err = s.Repository(ctx, registry, repo)
		wantKind(t, err, berth.KindNotFound)
	}
	_, err = s.RegistryBlob(ctx, registry, digest.FromString("layer m"))
	wantKind(t, err, berth.KindNotFound)
	_, err = s.Blob(ctx, registry, "app", digest.FromString("layer m"))
	wantKind(t, err, berth.KindNotFound)
	_, err = s.Upload(ctx, registry, "u")
	wantKind(t, err, berth.KindNotFound)
}
