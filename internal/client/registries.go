package client

import (
	"context"
	"net/http"

	"berth/internal/mgmt/api"
)

// ListRegistries lists every registry of the node by name.
func (c *Client) ListRegistries(ctx context.Context) ([]api.Registry, error) {
	out, err := call[api.RegistryList](ctx, c, http.MethodGet, path("registries"), nil, nil)
	return out.Value, err
}

// CreateRegistry creates a registry. With AdminUserEnabled, the result's
// Credentials hold both admin passwords, shown this once.
func (c *Client) CreateRegistry(ctx context.Context, req api.CreateRegistryRequest) (api.Registry, error) {
	return call[api.Registry](ctx, c, http.MethodPost, path("registries"), nil, req)
}

// GetRegistry returns one registry; an *Error with code RegistryNotFound
// when there is none.
func (c *Client) GetRegistry(ctx context.Context, name string) (api.Registry, error) {
	return call[api.Registry](ctx, c, http.MethodGet, registryPath(name), nil, nil)
}

// UpdateRegistry changes the fields of req that are set. When it turns the
// admin user on, the result's Credentials hold both new admin passwords.
func (c *Client) UpdateRegistry(ctx context.Context, name string, req api.UpdateRegistryRequest) (api.Registry, error) {
	return call[api.Registry](ctx, c, http.MethodPatch, registryPath(name), nil, req)
}

// DeleteRegistry deletes a registry with its repositories, scope maps and
// tokens.
func (c *Client) DeleteRegistry(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, registryPath(name), nil, nil, nil)
}

// CheckHealth returns the health report of a registry.
func (c *Client) CheckHealth(ctx context.Context, name string) (api.Health, error) {
	return call[api.Health](ctx, c, http.MethodGet, registryPath(name, "health"), nil, nil)
}

// ShowEndpoints returns the host names a client firewall must allow to
// pull from a registry.
func (c *Client) ShowEndpoints(ctx context.Context, name string) (api.Endpoints, error) {
	return call[api.Endpoints](ctx, c, http.MethodGet, registryPath(name, "endpoints"), nil, nil)
}

// ShowAllowlist returns what a client firewall must allow to pull from a
// registry, with the addresses the node knows for those names.
func (c *Client) ShowAllowlist(ctx context.Context, name string) (api.Allowlist, error) {
	return call[api.Allowlist](ctx, c, http.MethodGet, registryPath(name, "endpoints", "allowlist"), nil, nil)
}

// ShowCredentials returns the admin user's name and its passwords' names
// and creation times; berth keeps no password values. It fails with
// AdminUserDisabled when the admin user is off.
func (c *Client) ShowCredentials(ctx context.Context, registry string) (api.Credentials, error) {
	return call[api.Credentials](ctx, c, http.MethodGet, registryPath(registry, "credentials"), nil, nil)
}

// RenewCredential replaces the admin password passwordName ("password" or
// "password2") and returns it with its value, shown this once.
func (c *Client) RenewCredential(ctx context.Context, registry, passwordName string) (api.Credentials, error) {
	req := api.RenewPasswordRequest{PasswordName: passwordName}
	return call[api.Credentials](ctx, c, http.MethodPost, registryPath(registry, "credentials", "renew"), nil, req)
}
