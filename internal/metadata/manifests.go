package metadata

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
)

// batchSize bounds the rows (or digests) one statement carries, well below
// the bound-parameter limits of both databases.
const batchSize = 200

// storedRef is the JSON form of a berth.Reference in manifests.refs.
type storedRef struct {
	Digest   digest.Digest `json:"digest"`
	Manifest bool          `json:"manifest,omitempty"`
}

// PutManifest stores m in repo and, when tag is not "", points tag at it, in
// one transaction, creating the repository if needed. Every reference of m
// must be readable in repo: a blob linked to it, a child manifest stored in
// it. Otherwise nothing is written and the error is KindInvalid wrapping an
// *berth.UnknownReferenceError for the first missing reference. Storing an
// existing manifest again is not an error; a tag that pointed elsewhere
// moves. Attributes refuse it with KindDenied when the repository is not
// write-enabled, or when tag points to another digest and either the tag or
// the manifest it points to is not write-enabled; a new tag has every
// attribute enabled. A zero CreatedAt means now.
func (s *Store) PutManifest(ctx context.Context, registry, repo string, m *berth.Manifest, tag string) error {
	const op = "metadata.PutManifest"
	if m == nil || m.Digest == "" || len(m.Payload) == 0 {
		return berth.E(op, berth.KindInvalid, "manifest has no digest or no payload")
	}
	annotations, refs, err := encodeManifest(m)
	if err != nil {
		return berth.E(op, berth.KindInvalid, "manifest %s: %w", m.Digest, err)
	}
	now := time.Now().UnixNano()
	created := nanos(m.CreatedAt)
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		if err := checkRepository(ctx, tx, op, registry, repo, writeEnabled); err != nil {
			return err
		}
		if missing, err := firstMissingReference(ctx, tx, registry, repo, m.References); err != nil {
			return err
		} else if missing != nil {
			return berth.Wrap(op, berth.KindInvalid, &berth.UnknownReferenceError{Reference: *missing})
		}
		if err := createRepository(ctx, tx, registry, repo, now); err != nil {
			return err
		}
		// DO UPDATE rather than DO NOTHING: it locks an existing row, so a
		// concurrent DeleteManifest cannot remove it before the tag below
		// points at it.
		if _, err := tx.ExecContext(ctx, `INSERT INTO manifests
(registry, repository, digest, media_type, artifact_type, subject, annotations, refs, payload, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (registry, repository, digest) DO UPDATE SET created_at = manifests.created_at`,
			registry, repo, string(m.Digest), m.MediaType, m.ArtifactType, string(m.Subject),
			annotations, refs, m.Payload, created); err != nil {
			return err
		}
		if err := insertReferences(ctx, tx, registry, repo, m); err != nil {
			return err
		}
		if tag == "" {
			return nil
		}
		return putTag(ctx, tx, op, registry, repo, tag, m.Digest, now)
	})
}

// encodeManifest returns the stored forms of m's annotations and references.
func encodeManifest(m *berth.Manifest) (annotations, refs string, err error) {
	if len(m.Annotations) > 0 {
		b, err := json.Marshal(m.Annotations)
		if err != nil {
			return "", "", err
		}
		annotations = string(b)
	}
	stored := make([]storedRef, len(m.References))
	for i, r := range m.References {
		if r.Digest == "" {
			return "", "", errors.New("a reference has no digest")
		}
		stored[i] = storedRef{Digest: r.Digest, Manifest: r.Manifest}
	}
	b, err := json.Marshal(stored)
	return annotations, string(b), err
}

// firstMissingReference returns the first of refs that repo cannot read, or
// nil when it can read them all.
func firstMissingReference(ctx context.Context, tx *wtx, registry, repo string, refs []berth.Reference) (*berth.Reference, error) {
	var blobs, manifests []string
	for _, r := range refs {
		if r.Manifest {
			manifests = append(manifests, string(r.Digest))
		} else {
			blobs = append(blobs, string(r.Digest))
		}
	}
	haveBlobs, err := present(ctx, tx, "repository_blobs", registry, repo, blobs)
	if err != nil {
		return nil, err
	}
	haveManifests, err := present(ctx, tx, "manifests", registry, repo, manifests)
	if err != nil {
		return nil, err
	}
	for i, r := range refs {
		have := haveBlobs
		if r.Manifest {
			have = haveManifests
		}
		if !have[string(r.Digest)] {
			return &refs[i], nil
		}
	}
	return nil, nil
}

// present returns which of digests have a row in table (repository_blobs or
// manifests) for repo.
func present(ctx context.Context, tx *wtx, table, registry, repo string, digests []string) (map[string]bool, error) {
	have := make(map[string]bool, len(digests))
	for len(digests) > 0 {
		batch := digests[:min(len(digests), batchSize)]
		digests = digests[len(batch):]
		args := []any{registry, repo}
		marks := make([]string, len(batch))
		for i, d := range batch {
			args = append(args, d)
			marks[i] = fmt.Sprintf("$%d", i+3)
		}
		rows, err := tx.QueryContext(ctx, `SELECT digest FROM `+table+
			` WHERE registry = $1 AND repository = $2 AND digest IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return nil, err
			}
			have[d] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return have, nil
}

// insertReferences records m's references in manifest_references.
func insertReferences(ctx context.Context, tx *wtx, registry, repo string, m *berth.Manifest) error {
	refs := m.References
	for len(refs) > 0 {
		batch := refs[:min(len(refs), batchSize)]
		refs = refs[len(batch):]
		var b strings.Builder
		b.WriteString(`INSERT INTO manifest_references (registry, repository, digest, ref_digest, is_manifest) VALUES `)
		args := []any{registry, repo, string(m.Digest)}
		for i, r := range batch {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($1, $2, $3, $%d, $%d)", len(args)+1, len(args)+2)
			args = append(args, string(r.Digest), r.Manifest)
		}
		b.WriteString(` ON CONFLICT (registry, repository, digest, ref_digest) DO NOTHING`)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// Manifest returns manifest d of repo, references included; KindNotFound if
// it is not there, KindDenied if the repository or the manifest is not
// read-enabled.
func (s *Store) Manifest(ctx context.Context, registry, repo string, d digest.Digest) (*berth.Manifest, error) {
	const op = "metadata.Manifest"
	m := &berth.Manifest{Digest: d}
	var (
		subject, annotations, refs string
		created                    int64
		readable, repoReadable     bool
	)
	err := s.manifestStmt.QueryRowContext(s.detached(ctx), registry, repo, string(d)).Scan(
		&m.MediaType, &m.ArtifactType, &subject, &annotations, &refs, &m.Payload, &created,
		&readable, &repoReadable)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, berth.E(op, berth.KindNotFound, "manifest %s not found in repository %q", d, repo)
	}
	if err != nil {
		return nil, s.fail(op, err)
	}
	if !repoReadable {
		return nil, locked(op, repositoryObject(repo), readEnabled)
	}
	if !readable {
		return nil, locked(op, manifestObject(repo, d), readEnabled)
	}
	m.Subject = digest.Digest(subject)
	m.CreatedAt = fromNanos(created)
	if m.Annotations, err = decodeAnnotations(annotations); err != nil {
		return nil, s.fail(op, fmt.Errorf("manifest %s: %w", d, err))
	}
	var stored []storedRef
	if err := json.Unmarshal([]byte(refs), &stored); err != nil {
		return nil, s.fail(op, fmt.Errorf("manifest %s: references: %w", d, err))
	}
	if len(stored) > 0 {
		m.References = make([]berth.Reference, len(stored))
		for i, r := range stored {
			m.References[i] = berth.Reference{Digest: r.Digest, Manifest: r.Manifest}
		}
	}
	return m, nil
}

// decodeAnnotations returns the annotations stored as s; nil when s is "".
func decodeAnnotations(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var a map[string]string
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return nil, fmt.Errorf("annotations: %w", err)
	}
	return a, nil
}

// DeleteManifest removes manifest d from repo together with every tag
// pointing to it and its references, in one transaction; KindNotFound if it
// is not there. KindDenied, and nothing removed, if the repository, the
// manifest or one of its tags is not delete-enabled. Manifests that name d
// as their subject stay.
func (s *Store) DeleteManifest(ctx context.Context, registry, repo string, d digest.Digest) error {
	const op = "metadata.DeleteManifest"
	return s.update(ctx, op, func(ctx context.Context, tx *wtx) error {
		if err := checkRepository(ctx, tx, op, registry, repo, deleteEnabled); err != nil {
			return err
		}
		// The manifest row first: PutManifest locks it before the tag, so
		// both lock in the same order.
		n, lockedDigest, err := deleteChecked(ctx, tx, `DELETE FROM manifests
WHERE registry = $1 AND repository = $2 AND digest = $3 RETURNING digest, delete_enabled`,
			registry, repo, string(d))
		if err != nil {
			return err
		}
		if n == 0 {
			return berth.E(op, berth.KindNotFound, "manifest %s not found in repository %q", d, repo)
		}
		if lockedDigest != "" {
			return locked(op, manifestObject(repo, d), deleteEnabled)
		}
		_, lockedTag, err := deleteChecked(ctx, tx, `DELETE FROM tags
WHERE registry = $1 AND repository = $2 AND digest = $3 RETURNING name, delete_enabled`,
			registry, repo, string(d))
		if err != nil {
			return err
		}
		if lockedTag != "" {
			return locked(op, tagObject(repo, lockedTag), deleteEnabled)
		}
		_, err = tx.ExecContext(ctx,
			`DELETE FROM manifest_references WHERE registry = $1 AND repository = $2 AND digest = $3`,
			registry, repo, string(d))
		return err
	})
}

// Referrers lists the manifests of repo whose subject is d, filtered by
// artifactType when it is not "", ordered by digest, leaving out those that
// are not list-enabled. The list is empty, not an error, when there are none
// or repo does not exist.
func (s *Store) Referrers(ctx context.Context, registry, repo string, d digest.Digest, artifactType string) ([]berth.Descriptor, error) {
	const op = "metadata.Referrers"
	if d == "" {
		return []berth.Descriptor{}, nil
	}
	query := `SELECT digest, media_type, artifact_type, annotations, length(payload) FROM manifests
WHERE registry = $1 AND repository = $2 AND subject = $3 AND list_enabled`
	args := []any{registry, repo, string(d)}
	if artifactType != "" {
		query += ` AND artifact_type = $4`
		args = append(args, artifactType)
	}
	rows, err := s.read.QueryContext(ctx, query+` ORDER BY digest`, args...)
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer rows.Close()
	out := []berth.Descriptor{}
	for rows.Next() {
		var (
			desc        berth.Descriptor
			dg          string
			annotations string
		)
		if err := rows.Scan(&dg, &desc.MediaType, &desc.ArtifactType, &annotations, &desc.Size); err != nil {
			return nil, s.fail(op, err)
		}
		desc.Digest = digest.Digest(dg)
		if desc.Annotations, err = decodeAnnotations(annotations); err != nil {
			return nil, s.fail(op, fmt.Errorf("manifest %s: %w", dg, err))
		}
		out = append(out, desc)
	}
	return out, s.fail(op, rows.Err())
}
