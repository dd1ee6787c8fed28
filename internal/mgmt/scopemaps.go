package mgmt

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"berth/internal/berth"
	"berth/internal/mgmt/api"
)

// scopeMapNameRule is ACR's rule for scope map names.
const scopeMapNameRule = "a scope map name must be 5 to 50 letters, digits, '-' and '_' (^[a-zA-Z0-9_-]{5,50}$)"

func scopeMapNameChar(c rune) bool { return isAlnum(c) || c == '-' || c == '_' }

// builtIn returns the built-in scope map name of registry, if it is one.
func (h *Handler) builtIn(registry, name string) (berth.ScopeMap, bool) {
	for _, m := range h.deps.BuiltInScopeMaps(registry) {
		if m.Name == name {
			return m, true
		}
	}
	return berth.ScopeMap{}, false
}

// scopeMap returns the built-in or stored scope map name of registry;
// ScopeMapNotFound if there is none.
func (h *Handler) scopeMap(ctx context.Context, registry, name string) (berth.ScopeMap, error) {
	if m, ok := h.builtIn(registry, name); ok {
		return m, nil
	}
	m, err := h.deps.Identities.ScopeMap(ctx, registry, name)
	return m, about(err, resScopeMap, name, "")
}

func toScopeMap(m berth.ScopeMap) api.ScopeMap {
	out := api.ScopeMap{Name: m.Name, Description: m.Description, Actions: m.Actions,
		Type: api.ScopeMapUserDefined, CreationDate: utc(m.CreatedAt)}
	if m.BuiltIn {
		out.Type = api.ScopeMapSystemDefined
	}
	if out.Actions == nil {
		out.Actions = []string{}
	}
	return out
}

// addActions returns actions with add appended, each checked by
// Deps.ValidateScopeMapAction, without duplicates.
func (h *Handler) addActions(actions, add []string) ([]string, error) {
	out := slices.Clone(actions)
	for _, a := range add {
		if err := h.deps.ValidateScopeMapAction(a); err != nil {
			return nil, about(berth.Wrap("mgmt.ScopeMapAction", berth.KindInvalid, err), resScopeMap, "", "")
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// errNoActions refuses a scope map without actions.
func errNoActions(name string) error {
	return fail(api.CodeInvalidScopeMapAction, "scope map %q needs at least one action, such as repositories/<repository>/content/read", name)
}

func (h *Handler) listScopeMaps(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	stored, err := h.deps.Identities.ScopeMaps(r.Context(), reg.Name)
	if err != nil {
		return err
	}
	out := api.ScopeMapList{Value: []api.ScopeMap{}}
	for _, m := range h.deps.BuiltInScopeMaps(reg.Name) {
		out.Value = append(out.Value, toScopeMap(m))
	}
	for _, m := range stored {
		out.Value = append(out.Value, toScopeMap(m))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handler) createScopeMap(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	var req api.CreateScopeMapRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := validateName(api.CodeInvalidScopeMapName, "scope map", scopeMapNameRule, req.Name, scopeMapNameChar); err != nil {
		return err
	}
	if _, ok := h.builtIn(reg.Name, req.Name); ok {
		return fail(api.CodeScopeMapAlreadyExists, "scope map %q already exists: it is a built-in scope map", req.Name)
	}
	actions, err := h.addActions(nil, req.Actions)
	if err != nil {
		return err
	}
	if len(actions) == 0 {
		return errNoActions(req.Name)
	}
	m := berth.ScopeMap{Registry: reg.Name, Name: req.Name, Description: req.Description, Actions: actions, CreatedAt: h.now()}
	if err := h.deps.Identities.CreateScopeMap(r.Context(), m); err != nil {
		return about(err, resScopeMap, m.Name, "")
	}
	w.Header().Set("Location", v1Path+"/registries/"+reg.Name+"/scopeMaps/"+m.Name)
	return writeJSON(w, http.StatusCreated, toScopeMap(m))
}

func (h *Handler) getScopeMap(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	m, err := h.scopeMap(r.Context(), reg.Name, r.PathValue("scopeMap"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toScopeMap(m))
}

// storedScopeMap loads the scope map of the path for a change: built-in
// maps are read-only (OperationDenied, naming verb).
func (h *Handler) storedScopeMap(r *http.Request, reg berth.Registry, verb string) (berth.ScopeMap, error) {
	name := r.PathValue("scopeMap")
	if _, ok := h.builtIn(reg.Name, name); ok {
		return berth.ScopeMap{}, fail(api.CodeOperationDenied, "scope map %q is built in and cannot be %s", name, verb)
	}
	m, err := h.deps.Identities.ScopeMap(r.Context(), reg.Name, name)
	return m, about(err, resScopeMap, name, "")
}

// updateScopeMap sets the description, adds addActions, then removes
// removeActions, each of which the map must hold.
func (h *Handler) updateScopeMap(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	m, err := h.storedScopeMap(r, reg, "changed")
	if err != nil {
		return err
	}
	var req api.UpdateScopeMapRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Description != nil {
		m.Description = *req.Description
	}
	if m.Actions, err = h.addActions(m.Actions, req.AddActions); err != nil {
		return err
	}
	for _, a := range req.RemoveActions {
		i := slices.Index(m.Actions, a)
		if i < 0 {
			return fail(api.CodeInvalidScopeMapAction, "scope map %q has no action %q to remove", m.Name, a)
		}
		m.Actions = slices.Delete(m.Actions, i, i+1)
	}
	if len(m.Actions) == 0 {
		return errNoActions(m.Name)
	}
	if err := h.deps.Identities.UpdateScopeMap(r.Context(), m); err != nil {
		return about(err, resScopeMap, m.Name, "")
	}
	return writeJSON(w, http.StatusOK, toScopeMap(m))
}

// deleteScopeMap removes a scope map that no token uses; ScopeMapInUse
// names the tokens that do.
func (h *Handler) deleteScopeMap(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	m, err := h.storedScopeMap(r, reg, "deleted")
	if err != nil {
		return err
	}
	tokens, err := h.deps.Identities.Tokens(r.Context(), reg.Name)
	if err != nil {
		return err
	}
	var users []string
	for _, t := range tokens {
		if t.ScopeMap == m.Name {
			users = append(users, fmt.Sprintf("%q", t.Name))
		}
	}
	switch {
	case len(users) == 1:
		return fail(api.CodeScopeMapInUse, "scope map %q is used by token %s; delete the token or give it another scope map first",
			m.Name, users[0])
	case len(users) > 1:
		return fail(api.CodeScopeMapInUse, "scope map %q is used by tokens %s; delete them or give them another scope map first",
			m.Name, strings.Join(users, ", "))
	}
	if err := h.deps.Identities.DeleteScopeMap(r.Context(), reg.Name, m.Name); err != nil {
		return about(err, resScopeMap, m.Name, "")
	}
	return noContent(w)
}
