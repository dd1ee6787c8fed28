package mgmt

import (
	"context"
	"net/http"
	"strings"
	"time"

	"berth/internal/berth"
	"berth/internal/mgmt/api"
)

// tokenNameRule is ACR's rule for token names.
const tokenNameRule = "a token name must be 5 to 50 letters, digits and '-' (^[a-zA-Z0-9-]{5,50}$)"

func tokenNameChar(c rune) bool { return isAlnum(c) || c == '-' }

// parseStatus returns whether status s means enabled; def when s is empty.
func parseStatus(s string, def bool) (bool, error) {
	switch {
	case s == "":
		return def, nil
	case strings.EqualFold(s, api.TokenEnabled):
		return true, nil
	case strings.EqualFold(s, api.TokenDisabled):
		return false, nil
	}
	return false, fail(api.CodeInvalidParameter, "status must be %q or %q, not %q", api.TokenEnabled, api.TokenDisabled, s)
}

func statusOfToken(t berth.Token) string {
	if t.Enabled {
		return api.TokenEnabled
	}
	return api.TokenDisabled
}

// expiryOf returns when a new password expires: at expiry, or days from
// now, or never (the zero time).
func (h *Handler) expiryOf(expiry time.Time, days int) (time.Time, error) {
	switch {
	case !expiry.IsZero() && days != 0:
		return time.Time{}, fail(api.CodeInvalidParameter, "give either expiry or expirationInDays, not both")
	case days < 0:
		return time.Time{}, fail(api.CodeInvalidParameter, "expirationInDays must be a positive number of days, not %d", days)
	case days > 0:
		return h.now().Add(time.Duration(days) * 24 * time.Hour), nil
	case !expiry.IsZero() && !expiry.After(h.now()):
		return time.Time{}, fail(api.CodeInvalidParameter, "expiry %s is not in the future", expiry.UTC().Format(time.RFC3339))
	}
	return utc(expiry), nil
}

// checkScopeMap checks that a token may use scope map name: a built-in map
// or one of the registry's own. Anything else is UnknownScopeMap.
func (h *Handler) checkScopeMap(ctx context.Context, registry, name string) error {
	var builtIns []string
	for _, m := range h.deps.BuiltInScopeMaps(registry) {
		if m.Name == name {
			return nil
		}
		builtIns = append(builtIns, m.Name)
	}
	if name == "" {
		return fail(api.CodeUnknownScopeMap, "scopeMapName is missing; name one of the registry's scope maps or a built-in one (%s)",
			strings.Join(builtIns, ", "))
	}
	_, err := h.deps.Identities.ScopeMap(ctx, registry, name)
	if berth.IsNotFound(err) {
		return fail(api.CodeUnknownScopeMap, "scope map %q does not exist in registry %q; create it first or use a built-in one (%s)",
			name, registry, strings.Join(builtIns, ", "))
	}
	return err
}

// token loads the token of the path.
func (h *Handler) token(r *http.Request, reg berth.Registry) (berth.Token, error) {
	name := r.PathValue("token")
	t, err := h.deps.Identities.Token(r.Context(), reg.Name, name)
	return t, about(err, resToken, name, "")
}

// toToken describes t with its passwords' names and times.
func (h *Handler) toToken(ctx context.Context, t berth.Token) (api.Token, error) {
	pws, err := h.passwords(ctx, t.Registry, berth.TokenOwner(t.Name))
	if err != nil {
		return api.Token{}, err
	}
	return api.Token{Name: t.Name, ScopeMapName: t.ScopeMap, Status: statusOfToken(t), CreationDate: t.CreatedAt.UTC(),
		Credentials: api.Credentials{Username: t.Name, Passwords: pws}}, nil
}

func (h *Handler) listTokens(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	tokens, err := h.deps.Identities.Tokens(r.Context(), reg.Name)
	if err != nil {
		return err
	}
	out := api.TokenList{Value: make([]api.Token, 0, len(tokens))}
	for _, t := range tokens {
		at, err := h.toToken(r.Context(), t)
		if err != nil {
			return err
		}
		out.Value = append(out.Value, at)
	}
	return writeJSON(w, http.StatusOK, out)
}

// createToken records a token and, unless noPasswords is set, generates
// both its passwords and returns them with their values.
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	var req api.CreateTokenRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := validateName(api.CodeInvalidTokenName, "token", tokenNameRule, req.Name, tokenNameChar); err != nil {
		return err
	}
	enabled, err := parseStatus(req.Status, true)
	if err != nil {
		return err
	}
	expiry, err := h.expiryOf(req.Expiry, req.ExpirationInDays)
	if err != nil {
		return err
	}
	if req.NoPasswords && !expiry.IsZero() {
		return fail(api.CodeInvalidParameter, "an expiry applies to generated passwords; it cannot go with noPasswords")
	}
	ctx := r.Context()
	if err := h.checkScopeMap(ctx, reg.Name, req.ScopeMapName); err != nil {
		return err
	}
	t := berth.Token{Registry: reg.Name, Name: req.Name, ScopeMap: req.ScopeMapName, Enabled: enabled, CreatedAt: h.now()}
	if err := h.deps.Identities.CreateToken(ctx, t); err != nil {
		return about(err, resToken, t.Name, "")
	}
	out := api.Token{Name: t.Name, ScopeMapName: t.ScopeMap, Status: statusOfToken(t), CreationDate: t.CreatedAt,
		Credentials: api.Credentials{Username: t.Name, Passwords: []api.Password{}}}
	if !req.NoPasswords {
		pws, err := h.newPasswords(ctx, reg.Name, berth.TokenOwner(t.Name), expiry, api.TokenPassword1, api.TokenPassword2)
		if err != nil {
			return err
		}
		out.Credentials.Passwords = pws
	}
	w.Header().Set("Location", v1Path+"/registries/"+reg.Name+"/tokens/"+t.Name)
	return writeJSON(w, http.StatusCreated, out)
}

func (h *Handler) getToken(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	t, err := h.token(r, reg)
	if err != nil {
		return err
	}
	out, err := h.toToken(r.Context(), t)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handler) updateToken(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	t, err := h.token(r, reg)
	if err != nil {
		return err
	}
	var req api.UpdateTokenRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	if req.ScopeMapName != nil {
		if err := h.checkScopeMap(ctx, reg.Name, *req.ScopeMapName); err != nil {
			return err
		}
		t.ScopeMap = *req.ScopeMapName
	}
	if req.Status != nil {
		if *req.Status == "" {
			return fail(api.CodeInvalidParameter, "status must be %q or %q, not empty", api.TokenEnabled, api.TokenDisabled)
		}
		if t.Enabled, err = parseStatus(*req.Status, t.Enabled); err != nil {
			return err
		}
	}
	if err := h.deps.Identities.UpdateToken(ctx, t); err != nil {
		return about(err, resToken, t.Name, "")
	}
	out, err := h.toToken(ctx, t)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handler) deleteToken(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	name := r.PathValue("token")
	if err := h.deps.Identities.DeleteToken(r.Context(), reg.Name, name); err != nil {
		return about(err, resToken, name, "")
	}
	return noContent(w)
}

// checkTokenPassword refuses a password name other than password1 and
// password2.
func checkTokenPassword(name string) error {
	if name != api.TokenPassword1 && name != api.TokenPassword2 {
		return fail(api.CodeInvalidParameter, "passwordName must be %q or %q, not %q", api.TokenPassword1, api.TokenPassword2, name)
	}
	return nil
}

// generateTokenPassword replaces one password of a token and returns it,
// with its value.
func (h *Handler) generateTokenPassword(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	t, err := h.token(r, reg)
	if err != nil {
		return err
	}
	var req api.GeneratePasswordRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := checkTokenPassword(req.PasswordName); err != nil {
		return err
	}
	expiry, err := h.expiryOf(req.Expiry, req.ExpirationInDays)
	if err != nil {
		return err
	}
	pws, err := h.newPasswords(r.Context(), reg.Name, berth.TokenOwner(t.Name), expiry, req.PasswordName)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Credentials{Username: t.Name, Passwords: pws})
}

func (h *Handler) deleteTokenPassword(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	t, err := h.token(r, reg)
	if err != nil {
		return err
	}
	name := r.PathValue("passwordName")
	if err := checkTokenPassword(name); err != nil {
		return err
	}
	if err := h.deps.Identities.DeleteSecret(r.Context(), reg.Name, berth.TokenOwner(t.Name), name); err != nil {
		return about(err, resPassword, name, "")
	}
	return noContent(w)
}
