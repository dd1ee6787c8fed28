package mgmt

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
	"berth/internal/mgmt/api"
)

// validRepository reports whether name follows the OCI grammar of
// repository names: slash-separated components of lowercase letters and
// digits joined by '.', '_', "__" or dashes, at most 255 characters.
func validRepository(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	for c := range strings.SplitSeq(name, "/") {
		if !validComponent(c) {
			return false
		}
	}
	return true
}

func validComponent(c string) bool {
	lower := func(b byte) bool { return 'a' <= b && b <= 'z' || '0' <= b && b <= '9' }
	for i := 0; ; {
		j := i
		for j < len(c) && lower(c[j]) {
			j++
		}
		if j == i {
			return false
		}
		if j == len(c) {
			return true
		}
		switch {
		case c[j] == '.':
			j++
		case strings.HasPrefix(c[j:], "__"):
			j += 2
		case c[j] == '_':
			j++
		case c[j] == '-':
			for j < len(c) && c[j] == '-' {
				j++
			}
		default:
			return false
		}
		i = j
	}
}

// validTag reports whether t is a valid tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for _, c := range t {
		if !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// repository returns repository name of reg; InvalidParameter for a name
// that breaks the grammar, RepositoryNotFound for a missing one.
func (h *Handler) repository(ctx context.Context, reg berth.Registry, name string) (berth.RepositoryInfo, error) {
	if !validRepository(name) {
		return berth.RepositoryInfo{}, fail(api.CodeInvalidParameter,
			"invalid repository name %q: use lowercase path components of a-z, 0-9 and separators . _ __ -", name)
	}
	info, err := h.deps.Content.Repository(ctx, reg.Name, name)
	return info, about(err, resRepository, name, "")
}

// contentTarget is the registry and repository a tag or manifest request
// is about.
type contentTarget struct {
	reg  berth.Registry
	repo string
}

// target loads the registry of the path and checks the repository of the
// "repository" query parameter.
func (h *Handler) target(r *http.Request) (contentTarget, error) {
	reg, err := h.registry(r)
	if err != nil {
		return contentTarget{}, err
	}
	repo := r.URL.Query().Get("repository")
	if repo == "" {
		return contentTarget{}, fail(api.CodeInvalidParameter, "the query parameter \"repository\" is required, e.g. ?repository=team/app")
	}
	if _, err := h.repository(r.Context(), reg, repo); err != nil {
		return contentTarget{}, err
	}
	return contentTarget{reg, repo}, nil
}

// listOptions reads the orderby and top query parameters.
func listOptions(r *http.Request) (order string, top int, err error) {
	q := r.URL.Query()
	order = q.Get("orderby")
	if order != "" && order != api.OrderTimeAsc && order != api.OrderTimeDesc {
		return "", 0, fail(api.CodeInvalidParameter, "orderby must be %q or %q, not %q", api.OrderTimeAsc, api.OrderTimeDesc, order)
	}
	if s := q.Get("top"); s != "" {
		if top, err = strconv.Atoi(s); err != nil || top < 1 {
			return "", 0, fail(api.CodeInvalidParameter, "top must be a positive number, not %q", s)
		}
	}
	return order, top, nil
}

// first returns the first n elements of s; all of them when n is 0.
func first[T any](s []T, n int) []T {
	if n > 0 && n < len(s) {
		return s[:n]
	}
	return s
}

func toAttributes(a berth.Attributes) api.Attributes {
	return api.Attributes{DeleteEnabled: a.DeleteEnabled, WriteEnabled: a.WriteEnabled, ReadEnabled: a.ReadEnabled, ListEnabled: a.ListEnabled}
}

// merge returns a with the fields that u sets replaced.
func merge(a berth.Attributes, u api.AttributesUpdate) berth.Attributes {
	setBool(&a.DeleteEnabled, u.DeleteEnabled)
	setBool(&a.WriteEnabled, u.WriteEnabled)
	setBool(&a.ReadEnabled, u.ReadEnabled)
	setBool(&a.ListEnabled, u.ListEnabled)
	return a
}

func (h *Handler) toRepository(reg berth.Registry, info berth.RepositoryInfo) api.Repository {
	return api.Repository{Registry: h.loginServer(reg), ImageName: info.Name, ManifestCount: info.ManifestCount, TagCount: info.TagCount,
		CreatedTime: utc(info.CreatedAt), LastUpdateTime: utc(info.UpdatedAt), ChangeableAttributes: toAttributes(info.Attributes)}
}

func toTag(t berth.TagInfo) api.Tag {
	return api.Tag{Name: t.Name, Digest: t.Digest.String(), CreatedTime: utc(t.CreatedAt), LastUpdateTime: utc(t.UpdatedAt),
		ChangeableAttributes: toAttributes(t.Attributes)}
}

func toManifest(m berth.ManifestInfo) api.Manifest {
	tags := slices.Sorted(slices.Values(m.Tags))
	if tags == nil {
		tags = []string{}
	}
	return api.Manifest{Digest: m.Digest.String(), MediaType: m.MediaType, ArtifactType: m.ArtifactType, Size: m.Size,
		CreatedTime: utc(m.CreatedAt), Tags: tags, ChangeableAttributes: toAttributes(m.Attributes)}
}

func (h *Handler) listRepositories(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	_, top, err := listOptions(r)
	if err != nil {
		return err
	}
	names, err := h.deps.Content.Repositories(r.Context(), reg.Name, "", top)
	if err != nil {
		return err
	}
	if names == nil {
		names = []string{}
	}
	return writeJSON(w, http.StatusOK, api.RepositoryList{Value: names})
}

func (h *Handler) getRepository(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	info, err := h.repository(r.Context(), reg, r.PathValue("repository"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h.toRepository(reg, info))
}

// updateRepository merges the attributes of the request into the
// repository's.
func (h *Handler) updateRepository(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	info, err := h.repository(r.Context(), reg, r.PathValue("repository"))
	if err != nil {
		return err
	}
	var req api.AttributesUpdate
	if err := decode(w, r, &req); err != nil {
		return err
	}
	info.Attributes = merge(info.Attributes, req)
	if err := h.deps.Content.SetRepositoryAttributes(r.Context(), reg.Name, info.Name, info.Attributes); err != nil {
		return about(err, resRepository, info.Name, "")
	}
	h.changed(reg.Name)
	return writeJSON(w, http.StatusOK, h.toRepository(reg, info))
}

func (h *Handler) deleteRepository(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	info, err := h.repository(r.Context(), reg, r.PathValue("repository"))
	if err != nil {
		return err
	}
	if err := h.deps.Content.DeleteRepository(r.Context(), reg.Name, info.Name); err != nil {
		return about(err, resRepository, info.Name, "")
	}
	h.changed(reg.Name)
	return noContent(w)
}

// listTags lists a repository's tags by name, or by last update with
// orderby.
func (h *Handler) listTags(w http.ResponseWriter, r *http.Request) error {
	t, err := h.target(r)
	if err != nil {
		return err
	}
	order, top, err := listOptions(r)
	if err != nil {
		return err
	}
	tags, err := h.deps.Content.TagInfos(r.Context(), t.reg.Name, t.repo)
	if err != nil {
		return about(err, resRepository, t.repo, "")
	}
	if order != "" {
		slices.SortStableFunc(tags, func(a, b berth.TagInfo) int {
			c := a.UpdatedAt.Compare(b.UpdatedAt)
			if order == api.OrderTimeDesc {
				c = -c
			}
			return cmp.Or(c, strings.Compare(a.Name, b.Name))
		})
	}
	out := api.TagList{Value: []api.Tag{}}
	for _, tag := range first(tags, top) {
		out.Value = append(out.Value, toTag(tag))
	}
	return writeJSON(w, http.StatusOK, out)
}

// tagOf returns the tag of the path; InvalidParameter for a malformed one.
func tagOf(r *http.Request) (string, error) {
	tag := r.PathValue("tag")
	if !validTag(tag) {
		return "", fail(api.CodeInvalidParameter, "invalid tag %q: a tag is 1 to 128 letters, digits, '_', '.' and '-', "+
			"and does not start with '.' or '-'", tag)
	}
	return tag, nil
}

func (h *Handler) getTag(w http.ResponseWriter, r *http.Request) error {
	t, err := h.target(r)
	if err != nil {
		return err
	}
	tag, err := tagOf(r)
	if err != nil {
		return err
	}
	info, err := h.deps.Content.TagInfo(r.Context(), t.reg.Name, t.repo, tag)
	if err != nil {
		return about(err, resTag, tag, t.repo)
	}
	return writeJSON(w, http.StatusOK, toTag(info))
}

// updateTag merges the attributes of the request into the tag's.
func (h *Handler) updateTag(w http.ResponseWriter, r *http.Request) error {
	t, err := h.target(r)
	if err != nil {
		return err
	}
	tag, err := tagOf(r)
	if err != nil {
		return err
	}
	info, err := h.deps.Content.TagInfo(r.Context(), t.reg.Name, t.repo, tag)
	if err != nil {
		return about(err, resTag, tag, t.repo)
	}
	var req api.AttributesUpdate
	if err := decode(w, r, &req); err != nil {
		return err
	}
	info.Attributes = merge(info.Attributes, req)
	if err := h.deps.Content.SetTagAttributes(r.Context(), t.reg.Name, t.repo, tag, info.Attributes); err != nil {
		return about(err, resTag, tag, t.repo)
	}
	h.changed(t.reg.Name)
	return writeJSON(w, http.StatusOK, toTag(info))
}

// deleteTag removes a tag, not its manifest (az acr repository untag).
func (h *Handler) deleteTag(w http.ResponseWriter, r *http.Request) error {
	t, err := h.target(r)
	if err != nil {
		return err
	}
	tag, err := tagOf(r)
	if err != nil {
		return err
	}
	if err := h.deps.Content.DeleteTag(r.Context(), t.reg.Name, t.repo, tag); err != nil {
		return about(err, resTag, tag, t.repo)
	}
	h.changed(t.reg.Name)
	return noContent(w)
}

// listManifests lists a repository's manifests, newest first, or by
// creation time with orderby.
func (h *Handler) listManifests(w http.ResponseWriter, r *http.Request) error {
	t, err := h.target(r)
	if err != nil {
		return err
	}
	order, top, err := listOptions(r)
	if err != nil {
		return err
	}
	ms, err := h.deps.Content.ManifestInfos(r.Context(), t.reg.Name, t.repo)
	if err != nil {
		return about(err, resRepository, t.repo, "")
	}
	if order != "" {
		slices.SortStableFunc(ms, func(a, b berth.ManifestInfo) int {
			c := a.CreatedAt.Compare(b.CreatedAt)
			if order == api.OrderTimeDesc {
				c = -c
			}
			return cmp.Or(c, strings.Compare(a.Digest.String(), b.Digest.String()))
		})
	}
	out := api.ManifestList{Value: []api.Manifest{}}
	for _, m := range first(ms, top) {
		out.Value = append(out.Value, toManifest(m))
	}
	return writeJSON(w, http.StatusOK, out)
}

// digestOf returns the digest of the path; InvalidParameter for a
// malformed one.
func digestOf(r *http.Request) (digest.Digest, error) {
	s := r.PathValue("digest")
	d, err := digest.Parse(s)
	if err != nil {
		return "", fail(api.CodeInvalidParameter, "invalid digest %q: want <algorithm>:<hex>, such as sha256:<64 hex digits>", s)
	}
	return d, nil
}

func (h *Handler) getManifest(w http.ResponseWriter, r *http.Request) error {
	t, err := h.target(r)
	if err != nil {
		return err
	}
	d, err := digestOf(r)
	if err != nil {
		return err
	}
	info, err := h.deps.Content.ManifestInfo(r.Context(), t.reg.Name, t.repo, d)
	if err != nil {
		return about(err, resManifest, d.String(), t.repo)
	}
	return writeJSON(w, http.StatusOK, toManifest(info))
}

// updateManifest merges the attributes of the request into the
// manifest's.
func (h *Handler) updateManifest(w http.ResponseWriter, r *http.Request) error {
	t, err := h.target(r)
	if err != nil {
		return err
	}
	d, err := digestOf(r)
	if err != nil {
		return err
	}
	info, err := h.deps.Content.ManifestInfo(r.Context(), t.reg.Name, t.repo, d)
	if err != nil {
		return about(err, resManifest, d.String(), t.repo)
	}
	var req api.AttributesUpdate
	if err := decode(w, r, &req); err != nil {
		return err
	}
	info.Attributes = merge(info.Attributes, req)
	if err := h.deps.Content.SetManifestAttributes(r.Context(), t.reg.Name, t.repo, d, info.Attributes); err != nil {
		return about(err, resManifest, d.String(), t.repo)
	}
	h.changed(t.reg.Name)
	return writeJSON(w, http.StatusOK, toManifest(info))
}

// deleteManifest removes a manifest and every tag that points to it.
func (h *Handler) deleteManifest(w http.ResponseWriter, r *http.Request) error {
	t, err := h.target(r)
	if err != nil {
		return err
	}
	d, err := digestOf(r)
	if err != nil {
		return err
	}
	if err := h.deps.Content.DeleteManifest(r.Context(), t.reg.Name, t.repo, d); err != nil {
		return about(err, resManifest, d.String(), t.repo)
	}
	h.changed(t.reg.Name)
	return noContent(w)
}
