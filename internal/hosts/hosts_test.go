package hosts

import (
	"context"
	"testing"
	"time"

	"berth/internal/berth"
)

// fakeRegistries counts lookups so the cache can be observed.
type fakeRegistries struct {
	regs    map[string]berth.Registry
	aliases map[string]string
	calls   int
}

func (f *fakeRegistries) Registry(_ context.Context, name string) (berth.Registry, error) {
	f.calls++
	if r, ok := f.regs[name]; ok {
		return r, nil
	}
	return berth.Registry{}, berth.E("fake", berth.KindNotFound, "registry %q not found", name)
}

func (f *fakeRegistries) RegistryByAlias(ctx context.Context, host string) (berth.Registry, error) {
	f.calls++
	if name, ok := f.aliases[host]; ok {
		return f.regs[name], nil
	}
	return berth.Registry{}, berth.E("fake", berth.KindNotFound, "no alias %q", host)
}

func TestResolveHost(t *testing.T) {
	f := &fakeRegistries{
		regs:    map[string]berth.Registry{"default": {Name: "default"}, "contoso": {Name: "contoso"}},
		aliases: map[string]string{"localhost": "default", "127.0.0.1": "default", "::1": "default"},
	}
	r := New(f, "Example.com.", time.Hour)
	tests := []struct{ host, want string }{
		{"localhost", "default"},
		{"localhost:5000", "default"},
		{"127.0.0.1:5000", "default"},
		{"[::1]:5000", "default"},
		{"contoso.example.com", "contoso"},
		{"CONTOSO.example.com:443", "contoso"},
		{"contoso.example.com.", "contoso"},
		{"nosuch.example.com", ""},
		{"a.contoso.example.com", ""},
		{"example.com", ""},
		{"contoso.example.com.evil.net", ""},
		{"contoso.eastus.data.example.com", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			reg, err := r.ResolveHost(context.Background(), tt.host)
			if tt.want == "" {
				if !berth.IsNotFound(err) {
					t.Fatalf("ResolveHost(%q) = %+v, %v; want not found", tt.host, reg, err)
				}
				return
			}
			if err != nil || reg.Name != tt.want {
				t.Fatalf("ResolveHost(%q) = %+v, %v; want %s", tt.host, reg, err, tt.want)
			}
		})
	}
}

func TestCacheAndForget(t *testing.T) {
	f := &fakeRegistries{regs: map[string]berth.Registry{"contoso": {Name: "contoso"}}}
	r := New(f, "example.com", time.Hour)
	ctx := context.Background()
	r.ResolveHost(ctx, "contoso.example.com")
	calls := f.calls
	r.ResolveHost(ctx, "contoso.example.com")
	if f.calls != calls {
		t.Fatalf("second lookup reached the store")
	}
	f.regs["contoso"] = berth.Registry{Name: "contoso", Settings: berth.Settings{DataEndpointEnabled: true}}
	r.Forget()
	reg, _ := r.ResolveHost(ctx, "contoso.example.com")
	if !reg.DataEndpointEnabled {
		t.Fatalf("Forget kept the old settings")
	}
}
