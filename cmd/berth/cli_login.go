package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"berth/internal/mgmt/api"
)

// refreshUser is the user name under which Docker clients present a
// refresh token as a Basic credential.
const refreshUser = "00000000-0000-0000-0000-000000000000"

// loopbackRegistry is the registry of the embedded default node, the one
// that answers for localhost and 127.0.0.1.
const loopbackRegistry = "default"

// loginCommand returns `berth login` (also `berth registry login`).
func (c *cli) loginCommand() *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log Docker clients in to a registry",
		Long: `Log Docker clients in to a registry: exchange the operator credential (or,
with --username and --password, an admin or token credential) for a refresh
token at the registry's login server, and store it in the Docker client
configuration ($DOCKER_CONFIG/config.json, else ~/.docker/config.json) under
the host names clients will use. Other entries of that file are kept.

The host is --server-host when given. Otherwise, when the management server
is on this machine (localhost or a loopback address), it is that host and
port, written as both localhost:PORT and 127.0.0.1:PORT, for the default
registry, and <registry login server>:PORT for others; else the registry's
login server (with the management server's port, if it names one).`,
		Example: "  berth login\n  berth login -n contoso\n  berth login -n contoso -u ci-bot -p \"$PASSWORD\"\n" +
			"  berth login -n contoso --expose-token --query accessToken",
		Args: cobra.NoArgs,
		RunE: c.runE(func(cmd *cobra.Command, _ []string) error { return c.login(cmd, o) }),
	}
	f := cmd.Flags()
	f.StringVarP(&o.name, "name", "n", loopbackRegistry, "name of the registry")
	f.StringSliceVar(&o.hosts, "server-host", nil, "host[:port] that clients use for the registry; repeatable")
	f.StringVarP(&o.username, "username", "u", "", "store this admin or token user instead of a refresh token")
	f.StringVarP(&o.password, "password", "p", "", "the password of --username")
	f.BoolVarP(&o.exposeToken, "expose-token", "t", false, "print the refresh token and the login server instead of storing them")
	return cmd
}

// loginAliasCommand returns `berth login`, the same as `berth registry
// login`, with the global flags of the client commands.
func (c *cli) loginAliasCommand() *cobra.Command {
	cmd := c.loginCommand()
	c.addGlobalFlags(cmd.PersistentFlags())
	return cmd
}

// loginOptions are the flags of login.
type loginOptions struct {
	name               string
	hosts              []string
	username, password string
	exposeToken        bool
}

func (c *cli) login(cmd *cobra.Command, o loginOptions) error {
	if (o.username == "") != (o.password == "") {
		return fmt.Errorf("give --username and --password together")
	}
	server, token, err := c.endpoint()
	if err != nil {
		return err
	}
	reg, err := c.newClient(server, token).GetRegistry(cmd.Context(), o.name)
	if err != nil {
		return err
	}
	hosts := loginHosts(server, reg, o.hosts)

	form := url.Values{"service": {reg.LoginServer}}
	if o.username != "" {
		form.Set("grant_type", "password")
		form.Set("username", o.username)
		form.Set("password", o.password)
	} else {
		form.Set("grant_type", "access_token")
		form.Set("access_token", token)
	}
	refresh, err := exchange(cmd.Context(), c.http, server, hosts[0], form)
	if err != nil {
		return err
	}
	if o.exposeToken {
		fmt.Fprintf(cmd.ErrOrStderr(), "Log in by hand with: docker login %s -u %s -p <accessToken>\n", hosts[0], refreshUser)
		return c.print(cmd, map[string]string{"accessToken": refresh, "loginServer": hosts[0]}, view{})
	}

	auth := refreshUser + ":" + refresh
	if o.username != "" {
		auth = o.username + ":" + o.password
	}
	path, err := dockerConfigPath(c.getenv)
	if err != nil {
		return err
	}
	warnings, err := storeDockerAuth(path, hosts, base64.StdEncoding.EncodeToString([]byte(auth)))
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
	}
	fmt.Fprintln(cmd.OutOrStdout(), "Login succeeded")
	return nil
}

// loginHosts returns the hosts (with port) under which clients reach reg,
// the one to ask for the token first.
func loginHosts(server *url.URL, reg api.Registry, given []string) []string {
	if len(given) > 0 {
		return given
	}
	host, port := server.Hostname(), server.Port()
	withPort := func(h string) string {
		if port == "" {
			return h
		}
		return net.JoinHostPort(h, port)
	}
	if isLoopback(host) && reg.Name == loopbackRegistry {
		hosts := []string{server.Host}
		for _, h := range []string{"localhost", "127.0.0.1"} {
			if h != host {
				hosts = append(hosts, withPort(h))
			}
		}
		return hosts
	}
	return []string{withPort(reg.LoginServer)}
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// exchange posts form to /oauth2/exchange of the login server host,
// reached at the management server's address (a node routes by the Host
// header), and returns the refresh token.
func exchange(ctx context.Context, hc *http.Client, server *url.URL, host string, form url.Values) (string, error) {
	u := url.URL{Scheme: server.Scheme, Host: server.Host, Path: "/oauth2/exchange"}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("asking the login server %s for a token: %w", host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	var ok struct {
		RefreshToken string `json:"refresh_token"`
	}
	if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &ok) == nil && ok.RefreshToken != "" {
		return ok.RefreshToken, nil
	}
	var fail struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	msg := resp.Status
	if json.Unmarshal(body, &fail) == nil && len(fail.Errors) > 0 {
		msg = fail.Errors[0].Message
	}
	return "", fmt.Errorf("the login server %s refused the login: %s", host, msg)
}

// dockerConfigPath returns $DOCKER_CONFIG/config.json, else
// ~/.docker/config.json.
func dockerConfigPath(getenv func(string) string) (string, error) {
	if dir := getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("cannot find the Docker configuration: set DOCKER_CONFIG or HOME")
	}
	return filepath.Join(home, ".docker", "config.json"), nil
}

// storeDockerAuth sets the credential auth (base64 of user:password) of
// each host in the Docker configuration file at path, keeping everything
// else it holds. It creates the directory with mode 0700 and writes the
// file with mode 0600, replacing it atomically. It returns warnings about
// settings that make Docker look for these credentials elsewhere.
func storeDockerAuth(path string, hosts []string, auth string) ([]string, error) {
	cfg := map[string]json.RawMessage{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	case len(bytes.TrimSpace(b)) > 0:
		if err := json.Unmarshal(b, &cfg); err != nil {
			return nil, fmt.Errorf("%s is not a JSON object (%v); fix or move it, then log in again", path, err)
		}
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := cfg["auths"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return nil, fmt.Errorf("%s: \"auths\" is not an object: %v", path, err)
		}
	}
	entry, _ := json.Marshal(map[string]string{"auth": auth})
	for _, h := range hosts {
		auths[h] = entry
	}
	if cfg["auths"], err = json.Marshal(auths); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return nil, err
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, ".config.json.*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(out, '\n')); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	return helperWarnings(cfg, hosts), nil
}

// helperWarnings says which hosts Docker reads from a credential helper
// rather than from "auths".
func helperWarnings(cfg map[string]json.RawMessage, hosts []string) []string {
	var warnings []string
	var store string
	json.Unmarshal(cfg["credsStore"], &store)
	helpers := map[string]string{}
	json.Unmarshal(cfg["credHelpers"], &helpers)
	for _, h := range hosts {
		switch {
		case helpers[h] != "":
			warnings = append(warnings, fmt.Sprintf("credHelpers names %q for %s: Docker asks that helper, not the stored login", helpers[h], h))
		case store != "":
			warnings = append(warnings, fmt.Sprintf("credsStore is %q: Docker asks that helper for %s, not the stored login", store, h))
		}
	}
	return warnings
}
