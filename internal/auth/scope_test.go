package auth

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"berth/internal/berth"
)

func TestParseScope(t *testing.T) {
	tests := []struct {
		in   string
		want berth.Access
		msg  string
	}{
		{"repository:a/b:pull,push", repo("a/b", "pull", "push"), ""},
		{"repository:library/ubuntu:*", repo("library/ubuntu", "*"), ""},
		{"registry:catalog:*", catalog(), ""},
		{"repository(plugin):a:pull", berth.Access{Type: "repository(plugin)", Name: "a", Actions: []string{"pull"}}, ""},
		{"repository:a.b__c--d/e_f:pull", repo("a.b__c--d/e_f", "pull"), ""},
		{"repository:a:b:pull", berth.Access{}, `"a:b" is not a valid repository name`},
		{"registry:a:b:*", berth.Access{Type: "registry", Name: "a:b", Actions: []string{"*"}}, ""},
		{"repository:a", berth.Access{}, "does not read type:name:actions"},
		{"repository", berth.Access{}, "does not read type:name:actions"},
		{"", berth.Access{}, "does not read type:name:actions"},
		{":a:pull", berth.Access{}, "invalid type"},
		{"repository::pull", berth.Access{}, "invalid name"},
		{"repository:a:", berth.Access{}, "empty or invalid action"},
		{"repository:a:pull,,push", berth.Access{}, "empty or invalid action"},
		{"repository:Upper:pull", berth.Access{}, "not a valid repository name"},
		{"repository:a//b:pull", berth.Access{}, "not a valid repository name"},
		{"repository:a-:pull", berth.Access{}, "not a valid repository name"},
		{"repository:a___b:pull", berth.Access{}, "not a valid repository name"},
		{"repository:/a:pull", berth.Access{}, "not a valid repository name"},
		{`registry:ca"talog:*`, berth.Access{}, "invalid name"},
		{"repository:a:pu\x00ll", berth.Access{}, "empty or invalid action"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseScope(tt.in)
			if tt.msg != "" {
				checkErr(t, err, berth.KindInvalid, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if FormatScope(got) != tt.in {
				t.Errorf("FormatScope = %q, want %q", FormatScope(got), tt.in)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	got, err := ParseScopes([]string{"repository:a:pull  repository:b:push", "", "registry:catalog:*"})
	if err != nil {
		t.Fatal(err)
	}
	want := []berth.Access{repo("a", "pull"), repo("b", "push"), catalog()}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	_, err = ParseScopes([]string{strings.Repeat("repository:a:pull ", maxScopes+1)})
	checkErr(t, err, berth.KindInvalid, "more than 100 scopes")
}

func TestValidateScopeMapAction(t *testing.T) {
	tests := []struct {
		action string
		msg    string
	}{
		{"repositories/*/content/read", ""},
		{"repositories/a/b/content/write", ""},
		{"repositories/team/*/metadata/read", ""},
		{"repositories/team-*/content/delete", ""},
		{"repositories/a/metadata/write", ""},
		{"repository/a/content/read", `does not start with "repositories/"`},
		{"repositories/content", "does not read repositories/<repository>/<content|metadata>/<action>"},
		{"repositories/content/read", "does not read repositories/<repository>/<content|metadata>/<action>"},
		{"repositories/a/content/fly", `unknown action "content/fly"; want content/read, content/write, content/delete, metadata/read or metadata/write`},
		{"repositories/a/content/pull", `unknown action "content/pull"`},
		{"repositories/a*b/content/read", `"a*b" is not a valid repository name`},
		{"repositories/a*b*/content/read", `pattern "a*b*" may hold`},
		{"repositories/A/content/read", `"A" is not a valid repository name`},
		{"repositories//content/read", `"" is not a valid repository name`},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			err := ValidateScopeMapAction(tt.action)
			if tt.msg == "" {
				checkErr(t, err, noError, "")
				return
			}
			checkErr(t, err, berth.KindInvalid, tt.msg)
		})
	}
}

func TestGrantsAllows(t *testing.T) {
	g, err := GrantsOf([]string{
		"repositories/*/content/read",
		"repositories/team/*/content/write",
		"repositories/exact/metadata/write",
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		repo, action string
		want         bool
	}{
		{"anything", "pull", true},
		{"anything", "push", false},
		{"team/a", "push", true},
		{"team", "push", false},
		{"teamx", "push", false},
		{"exact", "metadata_write", true},
		{"exact/sub", "metadata_write", false},
		{"exactly", "metadata_write", false},
		{"team/a", "*", false},
		{"team/a", "fly", false},
	}
	for _, tt := range tests {
		t.Run(tt.repo+" "+tt.action, func(t *testing.T) {
			if got := g.Allows(tt.repo, tt.action); got != tt.want {
				t.Errorf("Allows = %v, want %v", got, tt.want)
			}
		})
	}
	if g.AllowsCatalog() {
		t.Error("catalog allowed without metadata/read")
	}
	if !AllGrants().Allows("x", "*") || !AllGrants().AllowsCatalog() {
		t.Error("AllGrants does not allow everything")
	}
	if (Grants{}).Allows("x", "pull") || (Grants{}).AllowsCatalog() {
		t.Error("the zero Grants allows something")
	}
	_, err = GrantsOf([]string{"repositories/*/content/read", "bad"})
	checkErr(t, err, berth.KindInvalid, `scope map action "bad"`)
}

func TestBuiltInScopeMaps(t *testing.T) {
	maps := BuiltInScopeMaps("contoso")
	names := make([]string, len(maps))
	for i, m := range maps {
		names[i] = m.Name
		if !m.BuiltIn || m.Registry != "contoso" || m.Description == "" {
			t.Errorf("%s: %+v", m.Name, m)
		}
		if _, err := GrantsOf(m.Actions); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("not ordered by name: %v", names)
	}
	tests := []struct {
		name    string
		allowed []string
		catalog bool
	}{
		{ScopeMapAdmin, []string{"pull", "push", "delete", "metadata_read", "metadata_write"}, true},
		{ScopeMapPull, []string{"pull"}, false},
		{ScopeMapPullMetadataRead, []string{"pull", "metadata_read"}, true},
		{ScopeMapPush, []string{"pull", "push"}, false},
		{ScopeMapPushMetadataWrite, []string{"pull", "push", "metadata_read", "metadata_write"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := BuiltInScopeMap("contoso", tt.name)
			if !ok {
				t.Fatal("not found")
			}
			g, _ := GrantsOf(m.Actions)
			for _, a := range []string{"pull", "push", "delete", "metadata_read", "metadata_write"} {
				if got, want := g.Allows("any/repo", a), slices.Contains(tt.allowed, a); got != want {
					t.Errorf("Allows(%s) = %v, want %v", a, got, want)
				}
			}
			if g.AllowsCatalog() != tt.catalog {
				t.Errorf("AllowsCatalog = %v", g.AllowsCatalog())
			}
		})
	}
	if _, ok := BuiltInScopeMap("contoso", "_repositories_other"); ok {
		t.Error("an unknown _repositories_ name is built in")
	}
}
