package metadatatest

import (
	"testing"
	"time"

	"berth/internal/berth"
)

func testRegistries(t *testing.T, s Store) {
	ctx := t.Context()
	list, err := s.Registries(ctx)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("new store lists registries %v", list)
	}
	created := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	must(t, s.CreateRegistry(ctx, berth.Registry{Name: "contoso", Location: "eastus", CreatedAt: created}))
	must(t, s.CreateRegistry(ctx, berth.Registry{Name: "b", Location: "westus"}))
	must(t, s.CreateRegistry(ctx, berth.Registry{Name: "a", Location: "westus"}))

	r, err := s.Registry(ctx, "contoso")
	must(t, err)
	if r.Name != "contoso" || r.Location != "eastus" || !r.CreatedAt.Equal(created) || len(r.Aliases) != 0 {
		t.Fatalf("Registry = %+v", r)
	}
	r, err = s.Registry(ctx, "a")
	must(t, err)
	if r.CreatedAt.IsZero() || time.Since(r.CreatedAt) > time.Hour {
		t.Fatalf("registry created without a time has CreatedAt %v, want about now", r.CreatedAt)
	}

	err = s.CreateRegistry(ctx, berth.Registry{Name: "contoso", Location: "westus"})
	wantKind(t, err, berth.KindExists)
	r, err = s.Registry(ctx, "contoso")
	must(t, err)
	if r.Location != "eastus" {
		t.Fatalf("duplicate CreateRegistry changed the location to %q", r.Location)
	}

	_, err = s.Registry(ctx, "missing")
	wantKind(t, err, berth.KindNotFound)
	wantKind(t, s.CreateRegistry(ctx, berth.Registry{Location: "eastus"}), berth.KindInvalid)

	list, err = s.Registries(ctx)
	must(t, err)
	var names []string
	for _, r := range list {
		names = append(names, r.Name)
	}
	wantStrings(t, "registry names", names, []string{"a", "b", "contoso"})
}

func testRegistryAliases(t *testing.T, s Store) {
	ctx := t.Context()
	must(t, s.CreateRegistry(ctx, berth.Registry{
		Name: "default", Location: berth.DefaultRegion, Aliases: []string{"localhost", "Registry.Example.COM"},
	}))
	must(t, s.CreateRegistry(ctx, berth.Registry{Name: "other", Location: berth.DefaultRegion}))

	for _, host := range []string{"localhost", "registry.example.com", "REGISTRY.example.com"} {
		r, err := s.RegistryByAlias(ctx, host)
		if err != nil {
			t.Fatalf("RegistryByAlias(%q): %v", host, err)
		}
		if r.Name != "default" {
			t.Fatalf("RegistryByAlias(%q) = %q, want default", host, r.Name)
		}
		wantStrings(t, "aliases", r.Aliases, []string{"localhost", "registry.example.com"})
	}
	_, err := s.RegistryByAlias(ctx, "other.example.com")
	wantKind(t, err, berth.KindNotFound)

	r, err := s.Registry(ctx, "default")
	must(t, err)
	wantStrings(t, "aliases", r.Aliases, []string{"localhost", "registry.example.com"})

	// A taken alias refuses the whole registry.
	err = s.CreateRegistry(ctx, berth.Registry{Name: "thief", Location: "eastus", Aliases: []string{"fresh", "LOCALHOST"}})
	wantKind(t, err, berth.KindExists)
	_, err = s.Registry(ctx, "thief")
	wantKind(t, err, berth.KindNotFound)
	_, err = s.RegistryByAlias(ctx, "fresh")
	wantKind(t, err, berth.KindNotFound)

	// The same alias twice in one registry is one alias.
	must(t, s.CreateRegistry(ctx, berth.Registry{Name: "twice", Location: "eastus", Aliases: []string{"x.test", "X.test"}}))
	r, err = s.RegistryByAlias(ctx, "x.test")
	must(t, err)
	wantStrings(t, "aliases", r.Aliases, []string{"x.test"})

	list, err := s.Registries(ctx)
	must(t, err)
	if len(list) != 3 || list[0].Name != "default" || len(list[0].Aliases) != 2 || len(list[1].Aliases) != 0 {
		t.Fatalf("Registries = %+v", list)
	}
}
