package mgmt

import (
	"errors"
	"strings"
	"testing"
)

func TestValidRepository(t *testing.T) {
	for name, want := range map[string]bool{
		"app": true, "team/app": true, "a.b/c_d/e__f/g-h/i---j": true, "a1/2b": true,
		"": false, "App": false, "team//app": false, "/app": false, "app/": false, "a..b": false, "a___b": false,
		"-app": false, "app-": false, "a_": false, "a b": false, strings.Repeat("a", 256): false,
	} {
		if got := validRepository(name); got != want {
			t.Errorf("validRepository(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestValidTag(t *testing.T) {
	for tag, want := range map[string]bool{
		"v1": true, "_v1": true, "V1.2-rc_3": true, strings.Repeat("t", 128): true,
		"": false, ".v1": false, "-v1": false, "v/1": false, "v:1": false, strings.Repeat("t", 129): false,
	} {
		if got := validTag(tag); got != want {
			t.Errorf("validTag(%q) = %v, want %v", tag, got, want)
		}
	}
}

func TestParseLocation(t *testing.T) {
	for in, want := range map[string]string{"": "home", "EastUS": "eastus", "us-east-2": "us-east-2", "-x": "", "x-": "", "a.b": "",
		strings.Repeat("r", 64): ""} {
		got, err := parseLocation(in, "home")
		if got != want || (err != nil) != (want == "") {
			t.Errorf("parseLocation(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestPasswordFuncs(t *testing.T) {
	p := PasswordFuncs(func() (string, error) { return "pw", nil }, func(s string) ([]byte, error) {
		if s == "" {
			return nil, errors.New("empty")
		}
		return []byte("hash:" + s), nil
	})
	v, err := p.New()
	h, herr := p.Hash(v)
	if err != nil || herr != nil || v != "pw" || string(h) != "hash:pw" {
		t.Errorf("New() = %q, %v; Hash = %q, %v", v, err, h, herr)
	}
}
