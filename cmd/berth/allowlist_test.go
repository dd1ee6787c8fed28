package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"berth/internal/berth"
)

func TestAllowlistModes(t *testing.T) {
	a := allowlister{domain: "berth.lab", region: "lab", login: "10.200.0.10:80", data: "10.200.0.11:80"}
	ctx := context.Background()
	reg := berth.Registry{Name: "contoso", Settings: berth.Settings{SKU: berth.SKUPremium, DataEndpointEnabled: true}}
	tests := []struct {
		name            string
		a               allowlister
		dataOn          bool
		firewall, hosts string
	}{
		{"dedicated", a, true,
			"contoso.berth.lab:80 # login server\ncontoso.lab.data.berth.lab:80 # data endpoint lab\n",
			"10.200.0.10 contoso.berth.lab\n10.200.0.11 contoso.lab.data.berth.lab\n"},
		{"shared storage", allowlister{domain: "berth.lab", region: "lab", login: "10.200.0.10:80", storage: "http://registry.blob.storage.invalid:10000"}, false,
			"contoso.berth.lab:80 # login server\n*.blob.storage.invalid:10000 # shared storage (any account)\n",
			"10.200.0.10 contoso.berth.lab\n"},
		{"login server streams", allowlister{domain: "example.com", region: "local", login: "0.0.0.0:443"}, false,
			"contoso.example.com:443 # login server\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg.DataEndpointEnabled = tt.dataOn
			got, err := tt.a.Allowlist(ctx, reg)
			if err != nil {
				t.Fatal(err)
			}
			for format, want := range map[string]string{"firewall": tt.firewall, "hosts": tt.hosts} {
				var buf bytes.Buffer
				generic, _ := toGeneric(got)
				if err := allowlistView.formats[format](&buf, generic); err != nil {
					t.Fatal(err)
				}
				out := buf.String()
				if format == "firewall" {
					out = out[strings.Index(out, "\n")+1:] // the header comment
				}
				if out != want {
					t.Errorf("-o %s:\n%s\nwant:\n%s", format, out, want)
				}
			}
		})
	}
}

// toGeneric turns v into the JSON-decoded form that output formats receive.
func toGeneric(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var g any
	return g, json.Unmarshal(b, &g)
}
