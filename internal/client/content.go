package client

import (
	"context"
	"net/http"
	"net/url"

	"berth/internal/mgmt/api"
)

// ListRepositories lists a registry's repository names in lexical order;
// opts.Top limits them.
func (c *Client) ListRepositories(ctx context.Context, registry string, opts ListOptions) ([]string, error) {
	q := ListOptions{Top: opts.Top}.query()
	out, err := call[api.RepositoryList](ctx, c, http.MethodGet, registryPath(registry, "repositories"), q, nil)
	return out.Value, err
}

// GetRepository describes one repository (repo may contain slashes).
func (c *Client) GetRepository(ctx context.Context, registry, repo string) (api.Repository, error) {
	return call[api.Repository](ctx, c, http.MethodGet, registryPath(registry, "repositories", repoPath(repo)), nil, nil)
}

// UpdateRepository changes the attributes of a repository that req sets.
func (c *Client) UpdateRepository(ctx context.Context, registry, repo string, req api.AttributesUpdate) (api.Repository, error) {
	return call[api.Repository](ctx, c, http.MethodPatch, registryPath(registry, "repositories", repoPath(repo)), nil, req)
}

// DeleteRepository deletes a repository with its manifests and tags;
// OperationDenied when its deleteEnabled attribute is false.
func (c *Client) DeleteRepository(ctx context.Context, registry, repo string) error {
	return c.do(ctx, http.MethodDelete, registryPath(registry, "repositories", repoPath(repo)), nil, nil, nil)
}

// inRepo returns the query that names repository repo, with more.
func inRepo(repo string, more url.Values) url.Values {
	if more == nil {
		more = url.Values{}
	}
	more.Set("repository", repo)
	return more
}

// ListTags lists the tags of a repository with their attributes: by name,
// or by last update with opts.OrderBy.
func (c *Client) ListTags(ctx context.Context, registry, repo string, opts ListOptions) ([]api.Tag, error) {
	out, err := call[api.TagList](ctx, c, http.MethodGet, registryPath(registry, "tags"), inRepo(repo, opts.query()), nil)
	return out.Value, err
}

// GetTag describes one tag of a repository.
func (c *Client) GetTag(ctx context.Context, registry, repo, tag string) (api.Tag, error) {
	return call[api.Tag](ctx, c, http.MethodGet, registryPath(registry, "tags", url.PathEscape(tag)), inRepo(repo, nil), nil)
}

// UpdateTag changes the attributes of a tag that req sets.
func (c *Client) UpdateTag(ctx context.Context, registry, repo, tag string, req api.AttributesUpdate) (api.Tag, error) {
	return call[api.Tag](ctx, c, http.MethodPatch, registryPath(registry, "tags", url.PathEscape(tag)), inRepo(repo, nil), req)
}

// DeleteTag removes a tag but not its manifest (untag).
func (c *Client) DeleteTag(ctx context.Context, registry, repo, tag string) error {
	return c.do(ctx, http.MethodDelete, registryPath(registry, "tags", url.PathEscape(tag)), inRepo(repo, nil), nil, nil)
}

// ListManifests lists the manifests of a repository with their tags and
// attributes: newest first, or by creation time with opts.OrderBy.
func (c *Client) ListManifests(ctx context.Context, registry, repo string, opts ListOptions) ([]api.Manifest, error) {
	out, err := call[api.ManifestList](ctx, c, http.MethodGet, registryPath(registry, "manifests"), inRepo(repo, opts.query()), nil)
	return out.Value, err
}

// GetManifest describes one manifest of a repository by digest.
func (c *Client) GetManifest(ctx context.Context, registry, repo, digest string) (api.Manifest, error) {
	return call[api.Manifest](ctx, c, http.MethodGet, registryPath(registry, "manifests", url.PathEscape(digest)), inRepo(repo, nil), nil)
}

// UpdateManifest changes the attributes of a manifest that req sets.
func (c *Client) UpdateManifest(ctx context.Context, registry, repo, digest string, req api.AttributesUpdate) (api.Manifest, error) {
	return call[api.Manifest](ctx, c, http.MethodPatch, registryPath(registry, "manifests", url.PathEscape(digest)), inRepo(repo, nil), req)
}

// DeleteManifest deletes a manifest by digest, with every tag that points
// to it.
func (c *Client) DeleteManifest(ctx context.Context, registry, repo, digest string) error {
	return c.do(ctx, http.MethodDelete, registryPath(registry, "manifests", url.PathEscape(digest)), inRepo(repo, nil), nil, nil)
}
