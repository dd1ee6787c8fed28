package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"berth/internal/mgmt/api"
)

// Client calls the management API of one berth node. It is safe for
// concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client of the node at baseURL (such as
// "http://127.0.0.1:5000"; a path prefix is kept) that authenticates with
// the operator token. A nil httpClient means http.DefaultClient.
func New(baseURL, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: httpClient}
}

// Error is a failure that the server reported, or an unexpected answer.
// Code is empty when the body was not an API error (a proxy's page, say).
type Error struct {
	Status  int
	Code    api.Code
	Message string
}

// Error returns the server's message.
func (e *Error) Error() string { return e.Message }

// ErrorCode returns the API error code of err, or "" when err is not an
// *Error.
func ErrorCode(err error) api.Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsNotFound reports whether err is an *Error with status 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// ListOptions shape a list of tags, manifests or repositories.
type ListOptions struct {
	// OrderBy is "" (tags by name, manifests newest first), api.OrderTimeAsc
	// or api.OrderTimeDesc. Repositories are always listed by name.
	OrderBy string
	// Top limits the number of entries; 0 means all.
	Top int
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.OrderBy != "" {
		q.Set("orderby", o.OrderBy)
	}
	if o.Top > 0 {
		q.Set("top", fmt.Sprint(o.Top))
	}
	return q
}

// path joins segments, already escaped, under /api/v1.
func path(escaped ...string) string {
	return "/api/" + api.APIVersion + "/" + strings.Join(escaped, "/")
}

// registryPath is the path of a registry or of something under it; the
// rest is already escaped.
func registryPath(registry string, rest ...string) string {
	return path(append([]string{"registries", url.PathEscape(registry)}, rest...)...)
}

// repoPath escapes each component of a repository name, keeping the
// slashes between them.
func repoPath(repo string) string {
	parts := strings.Split(repo, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

// do sends a request with in as its JSON body (none when nil) and decodes
// the JSON answer into out (ignored when nil).
func (c *Client) do(ctx context.Context, method, p string, query url.Values, in, out any) error {
	u := c.base + p
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "berth-client/"+api.APIVersion)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return responseError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the response: %w", method, p, err)
	}
	return nil
}

// call sends a request like do and returns the decoded answer.
func call[T any](ctx context.Context, c *Client, method, p string, query url.Values, in any) (T, error) {
	var out T
	err := c.do(ctx, method, p, query, in, &out)
	return out, err
}

// responseError turns an error response into an *Error.
func responseError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body api.ErrorResponse
	if json.Unmarshal(raw, &body) == nil && body.Error.Code != "" {
		return &Error{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message}
	}
	msg := fmt.Sprintf("%s %s: %s", resp.Request.Method, resp.Request.URL.Redacted(), resp.Status)
	if text := strings.TrimSpace(string(raw)); text != "" {
		if len(text) > 200 {
			text = text[:200] + "..."
		}
		msg += ": " + text
	}
	return &Error{Status: resp.StatusCode, Message: msg}
}

// Version returns the API version and the region of the node; it needs no
// token.
func (c *Client) Version(ctx context.Context) (api.Version, error) {
	return call[api.Version](ctx, c, http.MethodGet, path("version"), nil, nil)
}
