package main

import (
	"encoding/json"
	"fmt"
	"io"

	"berth/internal/mgmt/api"
)

// allowlistView prints an allowlist as firewall rules or as /etc/hosts
// lines (show-endpoints -o firewall / -o hosts); other formats show it as
// it is.
var allowlistView = view{
	rows:    "rules",
	columns: []column{{"HOST", "host"}, {"PORT", "port"}, {"PURPOSE", "purpose"}},
	formats: map[string]func(io.Writer, any) error{
		"firewall": func(w io.Writer, result any) error {
			a, err := asAllowlist(result)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "# allow these destinations to pull (mode: %s)\n", a.Mode)
			for _, r := range a.Rules {
				fmt.Fprintf(w, "%s:%d # %s\n", r.Host, r.Port, r.Purpose)
			}
			return nil
		},
		"hosts": func(w io.Writer, result any) error {
			a, err := asAllowlist(result)
			if err != nil {
				return err
			}
			for _, h := range a.Hosts {
				fmt.Fprintf(w, "%s %s\n", h.Address, h.Host)
			}
			return nil
		},
	},
}

// asAllowlist reads back the generic form print hands to a format.
func asAllowlist(result any) (api.Allowlist, error) {
	var a api.Allowlist
	b, err := json.Marshal(result)
	if err == nil {
		err = json.Unmarshal(b, &a)
	}
	if err != nil || a.Mode == "" {
		return a, fmt.Errorf("-o firewall and -o hosts print an allowlist; drop --query to use them")
	}
	return a, nil
}
