package mgmt

import (
	"context"
	"net/http"
	"time"

	"berth/internal/berth"
	"berth/internal/mgmt/api"
)

// newPasswords generates the named passwords of owner, stores their hashes
// (replacing any of the same name) and returns them with their values, the
// only time anyone sees them.
func (h *Handler) newPasswords(ctx context.Context, registry, owner string, expiry time.Time, names ...string) ([]api.Password, error) {
	out := make([]api.Password, 0, len(names))
	for _, name := range names {
		value, err := h.deps.Passwords.New()
		if err != nil {
			return nil, err
		}
		hash, err := h.deps.Passwords.Hash(value)
		if err != nil {
			return nil, err
		}
		s := berth.Secret{Name: name, Hash: hash, CreatedAt: h.now(), Expiry: expiry}
		if err := h.deps.Identities.PutSecret(ctx, registry, owner, s); err != nil {
			return nil, err
		}
		out = append(out, api.Password{Name: name, Value: value, CreationTime: s.CreatedAt, Expiry: s.Expiry})
	}
	return out, nil
}

// newAdminPasswords generates both passwords of a registry's admin user.
func (h *Handler) newAdminPasswords(ctx context.Context, registry string) (api.Credentials, error) {
	pws, err := h.newPasswords(ctx, registry, berth.AdminOwner, time.Time{}, api.AdminPassword1, api.AdminPassword2)
	return api.Credentials{Username: registry, Passwords: pws}, err
}

// passwords lists the passwords of owner without their values.
func (h *Handler) passwords(ctx context.Context, registry, owner string) ([]api.Password, error) {
	secrets, err := h.deps.Identities.Secrets(ctx, registry, owner)
	if err != nil {
		return nil, err
	}
	out := make([]api.Password, 0, len(secrets))
	for _, s := range secrets {
		out = append(out, api.Password{Name: s.Name, CreationTime: s.CreatedAt.UTC(), Expiry: utc(s.Expiry)})
	}
	return out, nil
}

// utc returns t in UTC, leaving the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// adminRegistry loads the registry of the path and checks that its admin
// user is enabled; AdminUserDisabled otherwise.
func (h *Handler) adminRegistry(r *http.Request) (berth.Registry, error) {
	reg, err := h.registry(r)
	if err != nil {
		return reg, err
	}
	if !reg.AdminUserEnabled {
		return reg, fail(api.CodeAdminUserDisabled, "the admin user of registry %q is disabled; "+
			"enable it first by setting adminUserEnabled to true", reg.Name)
	}
	return reg, nil
}

// showCredentials lists the admin user's name and its passwords' names and
// times. berth keeps only hashes, so no value is shown.
func (h *Handler) showCredentials(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.adminRegistry(r)
	if err != nil {
		return err
	}
	pws, err := h.passwords(r.Context(), reg.Name, berth.AdminOwner)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Credentials{Username: reg.Name, Passwords: pws})
}

// renewCredential replaces one password of the admin user and returns it,
// with its value.
func (h *Handler) renewCredential(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.adminRegistry(r)
	if err != nil {
		return err
	}
	var req api.RenewPasswordRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.PasswordName != api.AdminPassword1 && req.PasswordName != api.AdminPassword2 {
		return fail(api.CodeInvalidParameter, "passwordName must be %q or %q, not %q", api.AdminPassword1, api.AdminPassword2, req.PasswordName)
	}
	pws, err := h.newPasswords(r.Context(), reg.Name, berth.AdminOwner, time.Time{}, req.PasswordName)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Credentials{Username: reg.Name, Passwords: pws})
}
