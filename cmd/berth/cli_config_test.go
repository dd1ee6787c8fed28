package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes a CLI configuration file at path.
func writeConfig(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func testConfig(t *testing.T, e *cliEnv) {
	e.createRegistry(t, "configreg", "Basic")
	server, token := e.env["BERTH_SERVER"], e.env["BERTH_TOKEN"]
	delete(e.env, "BERTH_SERVER")
	delete(e.env, "BERTH_TOKEN")
	const dead = "http://127.0.0.1:1"
	list := []string{"registry", "show", "-n", "configreg", "--query", "name", "-o", "tsv"}
	works := func(what string, extra ...string) {
		t.Helper()
		if out, _, err := e.run(t, append(list, extra...)...); err != nil || out != "configreg\n" {
			t.Errorf("%s: %q, %v", what, out, err)
		}
	}
	badToken := func(what string, extra ...string) {
		t.Helper()
		e.fails(t, "registry show: the operator token is not valid: send \"Authorization: Bearer <token>\" with the operator token "+
			"that `berth serve` writes to <data-dir>/operator-token", append(list, extra...)...)
	}

	e.fails(t, "registry show: no operator credential: set BERTH_TOKEN or --token (berth serve wrote it to "+
		filepath.Join("berth-data", "operator-token")+")", list...)
	e.env["BERTH_DATA_DIR"] = "/srv/berth"
	e.fails(t, "registry show: no operator credential: set BERTH_TOKEN or --token (berth serve wrote it to /srv/berth/operator-token)", list...)

	// The file in ~/.config/berth.
	home := filepath.Join(e.env["HOME"], ".config", "berth", "config.json")
	writeConfig(t, home, `{"server": "`+server+`", "token": "`+token+`"}`)
	works("config file")
	writeConfig(t, home, `{"server": "`+server+`", "token": "stale"}`)
	badToken("stale token in the config file")
	e.env["BERTH_TOKEN"] = token
	works("BERTH_TOKEN over the config file")
	e.env["BERTH_TOKEN"] = "stale"
	badToken("stale BERTH_TOKEN")
	works("--token over BERTH_TOKEN", "--token", token)
	e.env["BERTH_SERVER"] = dead
	works("--server over BERTH_SERVER", "--token", token, "--server", server)
	_, _, err := e.run(t, append(list, "--token", token)...)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("BERTH_SERVER over the config file: %v", err)
	}
	delete(e.env, "BERTH_SERVER")
	delete(e.env, "BERTH_TOKEN")

	// $BERTH_CONFIG instead of ~/.config/berth.
	other := filepath.Join(t.TempDir(), "berth.json")
	writeConfig(t, other, `{"server": "`+server+`", "token": "`+token+`"}`)
	e.env["BERTH_CONFIG"] = other
	works("BERTH_CONFIG")
	e.env["BERTH_CONFIG"] = filepath.Join(t.TempDir(), "missing.json")
	_, _, err = e.run(t, list...)
	if err == nil || !strings.HasPrefix(err.Error(), "registry show: config file: open ") {
		t.Errorf("missing BERTH_CONFIG: %v", err)
	}
	writeConfig(t, other, `{"sever": "`+server+`"}`)
	e.env["BERTH_CONFIG"] = other
	e.fails(t, "registry show: config file "+other+`: json: unknown field "sever" (want {"server": "...", "token": "..."})`, list...)
	delete(e.env, "BERTH_CONFIG")

	e.fails(t, `registry show: the server "127.0.0.1:5000" is not an http:// or https:// URL, such as http://127.0.0.1:5000`,
		append(list, "--server", "127.0.0.1:5000", "--token", token)...)
}

func TestCAExport(t *testing.T) {
	const pemCert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIRAKP7\n-----END CERTIFICATE-----\n"
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "tls"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tls", "ca.pem"), []byte(pemCert), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	exec := func(args ...string) (string, error) {
		var stdout bytes.Buffer
		err := run(t.Context(), args, func(k string) string { return env[k] }, &stdout, &bytes.Buffer{})
		return stdout.String(), err
	}
	if out, err := exec("ca", "export", "--data-dir", dir); err != nil || out != pemCert {
		t.Errorf("ca export --data-dir: %q, %v", out, err)
	}
	env["BERTH_DATA_DIR"] = dir
	if out, err := exec("ca", "export"); err != nil || out != pemCert {
		t.Errorf("ca export with BERTH_DATA_DIR: %q, %v", out, err)
	}
	empty := t.TempDir()
	_, err := exec("ca", "export", "--data-dir", empty)
	want := "ca export: no local CA in " + filepath.Join(empty, "tls") + ": run berth serve --tls first (with --data-dir " + empty + ")"
	if err == nil || err.Error() != want {
		t.Errorf("ca export without a CA: %v, want %q", err, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "tls", "ca.pem"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := exec("ca", "export"); err == nil || !strings.HasSuffix(err.Error(), "ca.pem holds no PEM certificate") {
		t.Errorf("ca export of junk: %v", err)
	}
}

func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "bash completion", "zsh": "#compdef berth", "fish": "fish completion",
		"powershell": "Register-ArgumentCompleter"} {
		var stdout bytes.Buffer
		err := run(t.Context(), []string{"completion", shell}, func(string) string { return "" }, &stdout, &bytes.Buffer{})
		if err != nil || !strings.Contains(stdout.String(), marker) {
			t.Errorf("completion %s: %v, output lacks %q", shell, err, marker)
		}
	}
}
