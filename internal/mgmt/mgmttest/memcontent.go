package mgmttest

import (
	"context"
	"maps"
	"slices"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// LinkBlob records that blob d exists in the registry and that repo may
// read it, creating the repository.
func (m *Memory) LinkBlob(_ context.Context, registry, repo string, d digest.Digest, size int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.registry("memory.LinkBlob", registry)
	if err != nil {
		return err
	}
	m.ensureRepo(r, repo).blobs[d] = size
	return nil
}

func (m *Memory) ensureRepo(r *memRegistry, name string) *memRepo {
	repo, ok := r.repos[name]
	if !ok {
		now := m.now()
		repo = &memRepo{
			info:      berth.RepositoryInfo{Registry: r.reg.Name, Name: name, Attributes: berth.AllEnabled, CreatedAt: now, UpdatedAt: now},
			blobs:     map[digest.Digest]int64{},
			manifests: map[digest.Digest]*berth.ManifestInfo{},
			tags:      map[string]*berth.TagInfo{},
		}
		r.repos[name] = repo
	}
	return repo
}

// PutManifest stores mf in repo and points tag (when not "") at it. Every
// reference must be readable in repo (KindInvalid with an
// *berth.UnknownReferenceError otherwise); a tag that is not write-enabled
// cannot move (KindDenied).
func (m *Memory) PutManifest(_ context.Context, registry, repoName string, mf *berth.Manifest, tag string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	const op = "memory.PutManifest"
	r, err := m.registry(op, registry)
	if err != nil {
		return err
	}
	repo := m.ensureRepo(r, repoName)
	for _, ref := range mf.References {
		_, blob := repo.blobs[ref.Digest]
		_, child := repo.manifests[ref.Digest]
		if ref.Manifest && !child || !ref.Manifest && !blob {
			return berth.Wrap(op, berth.KindInvalid, &berth.UnknownReferenceError{Reference: ref})
		}
	}
	now := m.now()
	if _, ok := repo.manifests[mf.Digest]; !ok {
		created := mf.CreatedAt
		if created.IsZero() {
			created = now
		}
		repo.manifests[mf.Digest] = &berth.ManifestInfo{Digest: mf.Digest, MediaType: mf.MediaType, ArtifactType: mf.ArtifactType,
			Size: mf.Size(), Attributes: berth.AllEnabled, CreatedAt: created}
	}
	if tag != "" {
		t, ok := repo.tags[tag]
		switch {
		case !ok:
			repo.tags[tag] = &berth.TagInfo{Name: tag, Digest: mf.Digest, Attributes: berth.AllEnabled, CreatedAt: now, UpdatedAt: now}
		case t.Digest != mf.Digest && !t.Attributes.WriteEnabled:
			return berth.E(op, berth.KindDenied, "tag %q of repository %q cannot be overwritten: its writeEnabled attribute is false", tag, repoName)
		default:
			t.Digest, t.UpdatedAt = mf.Digest, now
		}
	}
	repo.info.UpdatedAt = now
	return nil
}

// Repositories lists up to n repository names after last, by name.
func (m *Memory) Repositories(_ context.Context, registry, last string, n int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []string{}
	r, ok := m.regs[registry]
	if !ok {
		return out, nil
	}
	for _, name := range slices.Sorted(maps.Keys(r.repos)) {
		if name > last && (n <= 0 || len(out) < n) {
			out = append(out, name)
		}
	}
	return out, nil
}

// content finds the repository of an operation.
func (m *Memory) content(op, registry, repo string) (*memRepo, error) {
	r, err := m.registry(op, registry)
	if err != nil {
		return nil, err
	}
	return r.repo(op, repo)
}

// Repository describes one repository; KindNotFound if absent.
func (m *Memory) Repository(_ context.Context, registry, repoName string) (berth.RepositoryInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	repo, err := m.content("memory.Repository", registry, repoName)
	if err != nil {
		return berth.RepositoryInfo{}, err
	}
	info := repo.info
	info.ManifestCount, info.TagCount = len(repo.manifests), len(repo.tags)
	return info, nil
}

// SetRepositoryAttributes replaces a repository's attributes.
func (m *Memory) SetRepositoryAttributes(_ context.Context, registry, repoName string, a berth.Attributes) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	repo, err := m.content("memory.SetRepositoryAttributes", registry, repoName)
	if err != nil {
		return err
	}
	repo.info.Attributes = a
	return nil
}

// DeleteRepository removes a repository; KindDenied if it is not
// delete-enabled.
func (m *Memory) DeleteRepository(_ context.Context, registry, repoName string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	const op = "memory.DeleteRepository"
	repo, err := m.content(op, registry, repoName)
	if err != nil {
		return err
	}
	if !repo.info.Attributes.DeleteEnabled {
		return berth.E(op, berth.KindDenied, "repository %q cannot be deleted: its deleteEnabled attribute is false", repoName)
	}
	delete(m.regs[registry].repos, repoName)
	return nil
}

// TagInfos lists a repository's tags by name.
func (m *Memory) TagInfos(_ context.Context, registry, repoName string) ([]berth.TagInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	repo, err := m.content("memory.TagInfos", registry, repoName)
	if err != nil {
		return nil, err
	}
	out := []berth.TagInfo{}
	for _, name := range slices.Sorted(maps.Keys(repo.tags)) {
		out = append(out, *repo.tags[name])
	}
	return out, nil
}

func (repo *memRepo) tag(op, repoName, tag string) (*berth.TagInfo, error) {
	t, ok := repo.tags[tag]
	if !ok {
		return nil, berth.E(op, berth.KindNotFound, "tag %q not found in repository %q", tag, repoName)
	}
	return t, nil
}

// TagInfo describes one tag.
func (m *Memory) TagInfo(_ context.Context, registry, repoName, tag string) (berth.TagInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	repo, err := m.content("memory.TagInfo", registry, repoName)
	if err != nil {
		return berth.TagInfo{}, err
	}
	t, err := repo.tag("memory.TagInfo", repoName, tag)
	if err != nil {
		return berth.TagInfo{}, err
	}
	return *t, nil
}

// SetTagAttributes replaces a tag's attributes.
func (m *Memory) SetTagAttributes(_ context.Context, registry, repoName, tag string, a berth.Attributes) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	repo, err := m.content("memory.SetTagAttributes", registry, repoName)
	if err != nil {
		return err
	}
	t, err := repo.tag("memory.SetTagAttributes", repoName, tag)
	if err != nil {
		return err
	}
	t.Attributes = a
	return nil
}

// DeleteTag removes a tag; KindDenied if it is not delete-enabled.
func (m *Memory) DeleteTag(_ context.Context, registry, repoName, tag string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	const op = "memory.DeleteTag"
	repo, err := m.content(op, registry, repoName)
	if err != nil {
		return err
	}
	t, err := repo.tag(op, repoName, tag)
	if err != nil {
		return err
	}
	if !t.Attributes.DeleteEnabled {
		return berth.E(op, berth.KindDenied, "tag %q of repository %q cannot be deleted: its deleteEnabled attribute is false", tag, repoName)
	}
	delete(repo.tags, tag)
	return nil
}

// ManifestInfos lists a repository's manifests newest first.
func (m *Memory) ManifestInfos(_ context.Context, registry, repoName string) ([]berth.ManifestInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	repo, err := m.content("memory.ManifestInfos", registry, repoName)
	if err != nil {
		return nil, err
	}
	out := []berth.ManifestInfo{}
	for _, mi := range repo.manifests {
		info := *mi
		info.Tags = repo.tagsOf(mi.Digest)
		out = append(out, info)
	}
	slices.SortFunc(out, byNewest)
	return out, nil
}

func (repo *memRepo) manifest(op, repoName string, d digest.Digest) (*berth.ManifestInfo, error) {
	mi, ok := repo.manifests[d]
	if !ok {
		return nil, berth.E(op, berth.KindNotFound, "manifest %s not found in repository %q", d, repoName)
	}
	return mi, nil
}

// ManifestInfo describes one manifest.
func (m *Memory) ManifestInfo(_ context.Context, registry, repoName string, d digest.Digest) (berth.ManifestInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	repo, err := m.content("memory.ManifestInfo", registry, repoName)
	if err != nil {
		return berth.ManifestInfo{}, err
	}
	mi, err := repo.manifest("memory.ManifestInfo", repoName, d)
	if err != nil {
		return berth.ManifestInfo{}, err
	}
	info := *mi
	info.Tags = repo.tagsOf(d)
	return info, nil
}

// SetManifestAttributes replaces a manifest's attributes.
func (m *Memory) SetManifestAttributes(_ context.Context, registry, repoName string, d digest.Digest, a berth.Attributes) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	repo, err := m.content("memory.SetManifestAttributes", registry, repoName)
	if err != nil {
		return err
	}
	mi, err := repo.manifest("memory.SetManifestAttributes", repoName, d)
	if err != nil {
		return err
	}
	mi.Attributes = a
	return nil
}

// DeleteManifest removes a manifest and its tags; KindDenied if the
// manifest or one of its tags is not delete-enabled.
func (m *Memory) DeleteManifest(_ context.Context, registry, repoName string, d digest.Digest) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	const op = "memory.DeleteManifest"
	repo, err := m.content(op, registry, repoName)
	if err != nil {
		return err
	}
	mi, err := repo.manifest(op, repoName, d)
	if err != nil {
		return err
	}
	if !mi.Attributes.DeleteEnabled {
		return berth.E(op, berth.KindDenied, "manifest %s cannot be deleted: its deleteEnabled attribute is false", d)
	}
	tags := repo.tagsOf(d)
	for _, name := range tags {
		if !repo.tags[name].Attributes.DeleteEnabled {
			return berth.E(op, berth.KindDenied, "manifest %s cannot be deleted: its tag %q has deleteEnabled false", d, name)
		}
	}
	for _, name := range tags {
		delete(repo.tags, name)
	}
	delete(repo.manifests, d)
	return nil
}
