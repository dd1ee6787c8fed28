package client

import (
	"context"
	"net/http"
	"net/url"

	"berth/internal/mgmt/api"
)

// ListScopeMaps lists the built-in scope maps of a registry, then its own.
func (c *Client) ListScopeMaps(ctx context.Context, registry string) ([]api.ScopeMap, error) {
	out, err := call[api.ScopeMapList](ctx, c, http.MethodGet, registryPath(registry, "scopeMaps"), nil, nil)
	return out.Value, err
}

// CreateScopeMap creates a scope map.
func (c *Client) CreateScopeMap(ctx context.Context, registry string, req api.CreateScopeMapRequest) (api.ScopeMap, error) {
	return call[api.ScopeMap](ctx, c, http.MethodPost, registryPath(registry, "scopeMaps"), nil, req)
}

// GetScopeMap returns one scope map, built in or the registry's own.
func (c *Client) GetScopeMap(ctx context.Context, registry, name string) (api.ScopeMap, error) {
	return call[api.ScopeMap](ctx, c, http.MethodGet, registryPath(registry, "scopeMaps", url.PathEscape(name)), nil, nil)
}

// UpdateScopeMap changes a scope map's description and actions. Built-in
// maps are read-only (OperationDenied).
func (c *Client) UpdateScopeMap(ctx context.Context, registry, name string, req api.UpdateScopeMapRequest) (api.ScopeMap, error) {
	return call[api.ScopeMap](ctx, c, http.MethodPatch, registryPath(registry, "scopeMaps", url.PathEscape(name)), nil, req)
}

// DeleteScopeMap deletes a scope map that no token uses (ScopeMapInUse
// otherwise).
func (c *Client) DeleteScopeMap(ctx context.Context, registry, name string) error {
	return c.do(ctx, http.MethodDelete, registryPath(registry, "scopeMaps", url.PathEscape(name)), nil, nil, nil)
}

// ListTokens lists a registry's tokens with their passwords' names and
// times.
func (c *Client) ListTokens(ctx context.Context, registry string) ([]api.Token, error) {
	out, err := call[api.TokenList](ctx, c, http.MethodGet, registryPath(registry, "tokens"), nil, nil)
	return out.Value, err
}

// CreateToken creates a token. Unless req.NoPasswords, the result's
// Credentials hold password1 and password2 with their values, shown this
// once.
func (c *Client) CreateToken(ctx context.Context, registry string, req api.CreateTokenRequest) (api.Token, error) {
	return call[api.Token](ctx, c, http.MethodPost, registryPath(registry, "tokens"), nil, req)
}

// GetToken returns one token with its passwords' names and times.
func (c *Client) GetToken(ctx context.Context, registry, name string) (api.Token, error) {
	return call[api.Token](ctx, c, http.MethodGet, registryPath(registry, "tokens", url.PathEscape(name)), nil, nil)
}

// UpdateToken changes a token's scope map or status.
func (c *Client) UpdateToken(ctx context.Context, registry, name string, req api.UpdateTokenRequest) (api.Token, error) {
	return call[api.Token](ctx, c, http.MethodPatch, registryPath(registry, "tokens", url.PathEscape(name)), nil, req)
}

// DeleteToken deletes a token and its passwords.
func (c *Client) DeleteToken(ctx context.Context, registry, name string) error {
	return c.do(ctx, http.MethodDelete, registryPath(registry, "tokens", url.PathEscape(name)), nil, nil, nil)
}

// GenerateTokenPassword replaces one password of a token and returns it
// with its value, shown this once.
func (c *Client) GenerateTokenPassword(ctx context.Context, registry, token string, req api.GeneratePasswordRequest) (api.Credentials, error) {
	p := registryPath(registry, "tokens", url.PathEscape(token), "credentials", "generate")
	return call[api.Credentials](ctx, c, http.MethodPost, p, nil, req)
}

// DeleteTokenPassword deletes one password of a token.
func (c *Client) DeleteTokenPassword(ctx context.Context, registry, token, passwordName string) error {
	p := registryPath(registry, "tokens", url.PathEscape(token), "credentials", url.PathEscape(passwordName))
	return c.do(ctx, http.MethodDelete, p, nil, nil, nil)
}
