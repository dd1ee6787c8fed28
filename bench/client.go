package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
	acceptHeader  = mediaManifest + ", application/vnd.oci.image.index.v1+json, " +
		"application/vnd.docker.distribution.manifest.v2+json"
)

// authorizer adds credentials to a request. A nil authorizer sends none.
// The error is that of obtaining the credentials.
type authorizer interface {
	authorize(r *http.Request) error
}

// renewer is an authorizer whose credentials can go stale. After a 401 to
// request r the client calls renew(r) and sends r once more.
type renewer interface {
	renew(r *http.Request)
}

// basicAuth sends HTTP Basic credentials with every request, which is what
// Distribution's htpasswd mode expects.
type basicAuth struct{ user, password string }

func (b basicAuth) authorize(r *http.Request) error {
	r.SetBasicAuth(b.user, b.password)
	return nil
}

// newHTTPClient returns a keep-alive client sized for conns concurrent
// connections to one host, without compression and without a proxy. With a
// dialAddr every connection goes there, whatever host the URL names, so that
// names such as default.localhost reach the server on 127.0.0.1.
func newHTTPClient(conns int, dialAddr string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	dial := d.DialContext
	if dialAddr != "" {
		dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, dialAddr)
		}
	}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		MaxIdleConns:          conns * 2,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		ResponseHeaderTimeout: 10 * time.Minute,
		WriteBufferSize:       256 << 10,
		ReadBufferSize:        256 << 10,
	}
	return &http.Client{Transport: t}
}

// registryClient speaks the OCI distribution API to one registry.
type registryClient struct {
	base string // http://127.0.0.1:port
	dial string // where to connect when not base's host
	hc   *http.Client
	auth authorizer
}

// do sends req with the client's credentials. When they are stale (a 401)
// and can be renewed, it renews them and sends req once more, provided its
// body can be read again.
func (c *registryClient) do(req *http.Request) (*http.Response, error) {
	if c.auth == nil {
		return c.hc.Do(req)
	}
	if err := c.auth.authorize(req); err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	r, ok := c.auth.(renewer)
	if err != nil || !ok || resp.StatusCode != http.StatusUnauthorized || (req.Body != nil && req.GetBody == nil) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	r.renew(req)
	again := req.Clone(req.Context())
	if req.GetBody != nil {
		if again.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	if err := c.auth.authorize(again); err != nil {
		return nil, err
	}
	return c.hc.Do(again)
}

// call sends one request and checks its status; the response body is drained
// and closed, and the response returned for its headers.
func (c *registryClient) call(ctx context.Context, method, u string, body io.Reader, size int64,
	hdr map[string]string, want ...int) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	for _, w := range want {
		if resp.StatusCode == w {
			_, err := io.Copy(io.Discard, resp.Body)
			return resp, err
		}
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp, fmt.Errorf("%s %s: status %d: %s", method, u, resp.StatusCode, bytes.TrimSpace(msg))
}

// location resolves a Location header against the registry base.
func (c *registryClient) location(resp *http.Response) (string, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", fmt.Errorf("%s %s: no Location header", resp.Request.Method, resp.Request.URL)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	return resp.Request.URL.ResolveReference(u).String(), nil
}

func withDigest(loc, digest string) (string, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	addDigest(u, digest)
	return u.String(), nil
}

// addDigest adds the digest parameter that closes an upload to u's query,
// keeping what the registry put there.
func addDigest(u *url.URL, digest string) {
	q := u.Query()
	q.Set("digest", digest)
	u.RawQuery = q.Encode()
}

// startUpload opens an upload session and returns its absolute location.
func (c *registryClient) startUpload(ctx context.Context, repo string) (string, error) {
	resp, err := c.call(ctx, http.MethodPost, c.base+"/v2/"+repo+"/blobs/uploads/", nil, 0, nil, http.StatusAccepted)
	if err != nil {
		return "", err
	}
	return c.location(resp)
}

var octet = map[string]string{"Content-Type": "application/octet-stream"}

// pushMonolithic uploads a blob with a POST and one PUT carrying the body.
func (c *registryClient) pushMonolithic(ctx context.Context, repo, digest string, size int64, body io.Reader) error {
	loc, err := c.startUpload(ctx, repo)
	if err != nil {
		return err
	}
	u, err := withDigest(loc, digest)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, http.MethodPut, u, body, size, octet, http.StatusCreated)
	return err
}

// pushChunked uploads a blob with a POST, one PATCH per chunk carrying a
// Content-Range, and a closing PUT without body.
func (c *registryClient) pushChunked(ctx context.Context, repo, digest string, blob content, chunk int64) error {
	loc, err := c.startUpload(ctx, repo)
	if err != nil {
		return err
	}
	for off := int64(0); off < blob.size; off += chunk {
		end := min(off+chunk, blob.size)
		hdr := map[string]string{
			"Content-Type":  "application/octet-stream",
			"Content-Range": strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(end-1, 10),
		}
		resp, err := c.call(ctx, http.MethodPatch, loc, blob.reader(off, end), end-off, hdr, http.StatusAccepted)
		if err != nil {
			return err
		}
		if loc, err = c.location(resp); err != nil {
			return err
		}
	}
	u, err := withDigest(loc, digest)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, http.MethodPut, u, nil, 0, nil, http.StatusCreated)
	return err
}

// pushSmall uploads a small blob unless a HEAD finds it already there.
func (c *registryClient) pushSmall(ctx context.Context, repo string, blob []byte) error {
	digest := digestOf(blob)
	ok, err := c.blobExists(ctx, repo, digest)
	if err != nil || ok {
		return err
	}
	return c.pushMonolithic(ctx, repo, digest, int64(len(blob)), bytes.NewReader(blob))
}

// blobExists reports whether a HEAD of the blob answers 200.
func (c *registryClient) blobExists(ctx context.Context, repo, digest string) (bool, error) {
	resp, err := c.call(ctx, http.MethodHead, c.base+"/v2/"+repo+"/blobs/"+digest, nil, 0, nil,
		http.StatusOK, http.StatusNotFound)
	if err != nil {
		return false, err
	}
	return resp.StatusCode == http.StatusOK, nil
}

// headBlob checks that a HEAD of the blob answers 200 with the given length.
func (c *registryClient) headBlob(ctx context.Context, repo, digest string, size int64) error {
	resp, err := c.call(ctx, http.MethodHead, c.base+"/v2/"+repo+"/blobs/"+digest, nil, 0, nil, http.StatusOK)
	if err != nil {
		return err
	}
	if resp.ContentLength != size {
		return fmt.Errorf("HEAD %s: length %d, want %d", digest, resp.ContentLength, size)
	}
	return nil
}

// pullBlob GETs a blob into buf-sized reads, discarding it, and checks its length.
func (c *registryClient) pullBlob(ctx context.Context, repo, digest string, size int64, buf []byte) error {
	return c.get(ctx, c.base+"/v2/"+repo+"/blobs/"+digest, size, buf)
}

func (c *registryClient) get(ctx context.Context, u string, size int64, buf []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	var n int64
	for {
		m, err := resp.Body.Read(buf)
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("GET %s after %d bytes: %w", u, n, err)
		}
	}
	if n != size {
		return fmt.Errorf("GET %s: got %d bytes, want %d", u, n, size)
	}
	return nil
}

// putManifest stores an image manifest under ref (a tag or digest).
func (c *registryClient) putManifest(ctx context.Context, repo, ref string, body []byte) error {
	_, err := c.call(ctx, http.MethodPut, c.base+"/v2/"+repo+"/manifests/"+ref, bytes.NewReader(body),
		int64(len(body)), map[string]string{"Content-Type": mediaManifest}, http.StatusCreated)
	return err
}

// getManifest GETs a manifest by ref and checks its length.
func (c *registryClient) getManifest(ctx context.Context, repo, ref string, size int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v2/"+repo+"/manifests/"+ref, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", acceptHeader)
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || n != int64(size) {
		return fmt.Errorf("GET manifest %s:%s: status %d, %d bytes, want 200 and %d", repo, ref, resp.StatusCode, n, size)
	}
	return nil
}

// image is one small OCI image: a config, its layers, and its manifest.
type image struct {
	config   []byte
	layers   [][]byte
	manifest []byte
}

// newImage builds a deterministic image from seed with the given layer sizes.
func newImage(seed uint64, layerSizes ...int64) image {
	var img image
	var diffIDs []string
	for i, n := range layerSizes {
		l := content{seed: mix(seed*31 + uint64(i) + 1), size: n, tailFrom: n + 8}.bytes()
		img.layers = append(img.layers, l)
		diffIDs = append(diffIDs, `"`+digestOf(l)+`"`)
	}
	img.config = fmt.Appendf(nil,
		`{"architecture":"amd64","os":"linux","config":{"Labels":{"bench.seed":"%d"}},"rootfs":{"type":"layers","diff_ids":[%s]}}`,
		seed, strings.Join(diffIDs, ","))
	var descs []string
	for _, l := range img.layers {
		descs = append(descs, descriptor(mediaLayer, l))
	}
	img.manifest = fmt.Appendf(nil,
		`{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}`,
		mediaManifest, descriptor(mediaConfig, img.config), strings.Join(descs, ","))
	return img
}

func descriptor(mediaType string, b []byte) string {
	return fmt.Sprintf(`{"mediaType":"%s","digest":"%s","size":%d}`, mediaType, digestOf(b), len(b))
}

// push uploads the image's blobs (HEAD first) and its manifest under tag.
func (c *registryClient) push(ctx context.Context, repo, tag string, img image) error {
	if err := c.pushSmall(ctx, repo, img.config); err != nil {
		return err
	}
	for _, l := range img.layers {
		if err := c.pushSmall(ctx, repo, l); err != nil {
			return err
		}
	}
	return c.putManifest(ctx, repo, tag, img.manifest)
}
