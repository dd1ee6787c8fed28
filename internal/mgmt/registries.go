package mgmt

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"berth/internal/berth"
	"berth/internal/mgmt/api"
)

// registryNameRule is ACR's rule for registry names, as messages quote it.
const registryNameRule = "a registry name must be 5 to 50 letters and digits (^[a-zA-Z0-9]{5,50}$)"

// validateName checks the name of a registry, scope map or token: 5 to 50
// characters for which ok is true. The error has the given code and says
// what breaks rule.
func validateName(code api.Code, noun, rule, name string, ok func(rune) bool) error {
	if name == "" {
		return fail(code, "the %s name is missing; %s", noun, rule)
	}
	for _, c := range name {
		if !ok(c) {
			return fail(code, "invalid %s name %q: it contains %q; %s", noun, name, c, rule)
		}
	}
	if len(name) < 5 || len(name) > 50 {
		return fail(code, "invalid %s name %q: it is %d characters long; %s", noun, name, len(name), rule)
	}
	return nil
}

func isAlnum(c rune) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

var skus = []berth.SKU{berth.SKUBasic, berth.SKUStandard, berth.SKUPremium}

// parseSKU returns the SKU named s in any case; InvalidSku otherwise.
func parseSKU(s string) (berth.SKU, error) {
	for _, k := range skus {
		if strings.EqualFold(s, string(k)) {
			return k, nil
		}
	}
	if s == "" {
		return "", fail(api.CodeInvalidSku, "the sku is missing; use Basic, Standard or Premium")
	}
	return "", fail(api.CodeInvalidSku, "unknown SKU %q; use Basic, Standard or Premium", s)
}

// skuOf returns the SKU of s; the zero SKU is Basic.
func skuOf(s berth.Settings) berth.SKU {
	if s.SKU == "" {
		return berth.SKUBasic
	}
	return s.SKU
}

// parseLocation returns region name s in lower case, def when s is empty;
// InvalidLocation unless it can be a label of a host name.
func parseLocation(s, def string) (string, error) {
	if s == "" {
		return def, nil
	}
	loc := strings.ToLower(s)
	ok := len(loc) <= 63 && loc[0] != '-' && loc[len(loc)-1] != '-'
	for _, c := range loc {
		ok = ok && (isAlnum(c) || c == '-')
	}
	if !ok {
		return "", fail(api.CodeInvalidLocation, "invalid location %q: a region name is 1 to 63 letters, digits and '-', "+
			"starting and ending with a letter or digit", s)
	}
	return loc, nil
}

// checkSKU checks that the SKU of s offers the features s enables. old is
// the registry's current settings, nil for a new registry: when it had the
// feature on a SKU that offered it, the error says to turn the feature off
// before changing the SKU.
func checkSKU(name string, old *berth.Settings, s berth.Settings) error {
	sku := skuOf(s)
	if s.AnonymousPullEnabled && sku == berth.SKUBasic {
		if old != nil && old.AnonymousPullEnabled && skuOf(*old) != berth.SKUBasic {
			return fail(api.CodeFeatureNotSupportedForSku, "cannot change registry %q to the Basic SKU while anonymous pull is enabled; "+
				"turn anonymous pull off first (anonymousPullEnabled: false)", name)
		}
		return fail(api.CodeFeatureNotSupportedForSku, "anonymous pull requires the Standard or Premium SKU; registry %q is Basic", name)
	}
	if s.DataEndpointEnabled && sku != berth.SKUPremium {
		if old != nil && old.DataEndpointEnabled && skuOf(*old) == berth.SKUPremium {
			return fail(api.CodeFeatureNotSupportedForSku, "cannot change registry %q to the %s SKU while dedicated data endpoints are enabled; "+
				"turn them off first (dataEndpointEnabled: false)", name, sku)
		}
		return fail(api.CodeFeatureNotSupportedForSku, "dedicated data endpoints require the Premium SKU; registry %q is %s", name, sku)
	}
	return nil
}

// registry loads the registry that the path names, in any case.
func (h *Handler) registry(r *http.Request) (berth.Registry, error) {
	name := strings.ToLower(r.PathValue("name"))
	reg, err := h.deps.Registries.Registry(r.Context(), name)
	return reg, about(err, resRegistry, name, "")
}

// loginServer returns the host name of reg's registry endpoint.
func (h *Handler) loginServer(reg berth.Registry) string { return reg.Name + "." + h.cfg.Domain }

// dataEndpoints lists reg's dedicated data endpoints: one per region it is
// served in (its location, until replicas exist), none when disabled.
func (h *Handler) dataEndpoints(reg berth.Registry) []api.DataEndpoint {
	if !reg.DataEndpointEnabled {
		return []api.DataEndpoint{}
	}
	loc := reg.Location
	if loc == "" {
		loc = h.cfg.Region
	}
	return []api.DataEndpoint{{Region: loc, Endpoint: reg.Name + "." + loc + ".data." + h.cfg.Domain}}
}

func (h *Handler) toRegistry(reg berth.Registry) api.Registry {
	hosts := []string{}
	for _, e := range h.dataEndpoints(reg) {
		hosts = append(hosts, e.Endpoint)
	}
	return api.Registry{
		Name:                      reg.Name,
		SKU:                       string(skuOf(reg.Settings)),
		Location:                  reg.Location,
		LoginServer:               h.loginServer(reg),
		AdminUserEnabled:          reg.AdminUserEnabled,
		AnonymousPullEnabled:      reg.AnonymousPullEnabled,
		DataEndpointEnabled:       reg.DataEndpointEnabled,
		DataEndpointHostNames:     hosts,
		DataEndpointURLTTLSeconds: int(reg.DataEndpointURLTTL / time.Second),
		ProvisioningState:         api.ProvisioningSucceeded,
		CreationDate:              reg.CreatedAt.UTC(),
	}
}

func (h *Handler) listRegistries(w http.ResponseWriter, r *http.Request) error {
	regs, err := h.deps.Registries.Registries(r.Context())
	if err != nil {
		return err
	}
	out := api.RegistryList{Value: make([]api.Registry, 0, len(regs))}
	for _, reg := range regs {
		out.Value = append(out.Value, h.toRegistry(reg))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handler) createRegistry(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateRegistryRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := validateName(api.CodeInvalidRegistryName, "registry", registryNameRule, req.Name, isAlnum); err != nil {
		return err
	}
	sku, err := parseSKU(req.SKU)
	if err != nil {
		return err
	}
	loc, err := parseLocation(req.Location, h.cfg.Region)
	if err != nil {
		return err
	}
	reg := berth.Registry{
		Name:     strings.ToLower(req.Name),
		Location: loc,
		Settings: berth.Settings{
			SKU:                  sku,
			AdminUserEnabled:     req.AdminUserEnabled,
			AnonymousPullEnabled: req.AnonymousPullEnabled,
			DataEndpointEnabled:  req.DataEndpointEnabled,
		},
		CreatedAt: h.now(),
	}
	if err := checkSKU(reg.Name, nil, reg.Settings); err != nil {
		return err
	}
	if err := h.deps.Registries.CreateRegistry(r.Context(), reg); err != nil {
		return about(err, resRegistry, reg.Name, "")
	}
	out := h.toRegistry(reg)
	if reg.AdminUserEnabled {
		creds, err := h.newAdminPasswords(r.Context(), reg.Name)
		if err != nil {
			return err
		}
		out.Credentials = &creds
	}
	w.Header().Set("Location", v1Path+"/registries/"+reg.Name)
	return writeJSON(w, http.StatusCreated, out)
}

func (h *Handler) getRegistry(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h.toRegistry(reg))
}

// updateRegistry merges the request into the registry's settings. Turning
// the admin user on generates both its passwords and returns them; turning
// it off deletes them.
func (h *Handler) updateRegistry(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	var req api.UpdateRegistryRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	old := reg.Settings
	old.SKU = skuOf(old)
	s := old
	if req.SKU != nil {
		if s.SKU, err = parseSKU(*req.SKU); err != nil {
			return err
		}
	}
	setBool(&s.AdminUserEnabled, req.AdminUserEnabled)
	setBool(&s.AnonymousPullEnabled, req.AnonymousPullEnabled)
	setBool(&s.DataEndpointEnabled, req.DataEndpointEnabled)
	if t := req.DataEndpointURLTTLSeconds; t != nil {
		if *t != 0 && (*t < 30 || *t > 3600) {
			return fail(api.CodeBadRequest, "dataEndpointUrlTtlSeconds must be from 30 to 3600 (or 0 for the default of 600), not %d", *t)
		}
		s.DataEndpointURLTTL = time.Duration(*t) * time.Second
	}
	if err := checkSKU(reg.Name, &old, s); err != nil {
		return err
	}
	ctx := r.Context()
	var creds *api.Credentials
	if s.AdminUserEnabled && !old.AdminUserEnabled {
		c, err := h.newAdminPasswords(ctx, reg.Name)
		if err != nil {
			return err
		}
		creds = &c
	}
	if err := h.deps.Registries.UpdateSettings(ctx, reg.Name, s); err != nil {
		return about(err, resRegistry, reg.Name, "")
	}
	h.changed(reg.Name)
	if old.AdminUserEnabled && !s.AdminUserEnabled {
		if err := h.deleteSecrets(ctx, reg.Name, berth.AdminOwner); err != nil {
			return err
		}
	}
	reg.Settings = s
	out := h.toRegistry(reg)
	out.Credentials = creds
	return writeJSON(w, http.StatusOK, out)
}

// changed tells the node that a registry's settings changed or it is gone.
func (h *Handler) changed(registry string) {
	if h.cfg.Changed != nil {
		h.cfg.Changed(registry)
	}
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

func (h *Handler) deleteRegistry(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	if err := h.deps.Registries.DeleteRegistry(r.Context(), reg.Name); err != nil {
		return about(err, resRegistry, reg.Name, "")
	}
	h.changed(reg.Name)
	return noContent(w)
}

// checkHealth reports the registry's record in the metadata store and the
// node's own checks (Config.Health). A registry that does not exist is a
// 404; a metadata store that fails is an error check in the report.
func (h *Handler) checkHealth(w http.ResponseWriter, r *http.Request) error {
	name := strings.ToLower(r.PathValue("name"))
	out := api.Health{Registry: name, Healthy: true}
	reg, err := h.registry(r)
	switch {
	case berth.IsNotFound(err):
		return err
	case err != nil:
		out.Checks = append(out.Checks, api.HealthCheck{Name: "metadata", Status: api.HealthError,
			Message: "reading the registry from the metadata store failed: " + berth.Message(err)})
	default:
		out.Checks = append(out.Checks, api.HealthCheck{Name: "metadata", Status: api.HealthOK,
			Message: fmt.Sprintf("registry %q (%s, %s) is in the metadata store", reg.Name, skuOf(reg.Settings), reg.Location)})
		if h.cfg.Health != nil {
			out.Checks = append(out.Checks, h.cfg.Health(r.Context(), reg.Name)...)
		}
	}
	for _, c := range out.Checks {
		out.Healthy = out.Healthy && c.Status != api.HealthError
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handler) showEndpoints(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Endpoints{LoginServer: h.loginServer(reg), DataEndpoints: h.dataEndpoints(reg)})
}

func (h *Handler) showAllowlist(w http.ResponseWriter, r *http.Request) error {
	reg, err := h.registry(r)
	if err != nil {
		return err
	}
	if h.cfg.Allowlist != nil {
		a, err := h.cfg.Allowlist(r.Context(), reg)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, a)
	}
	a := api.Allowlist{Mode: api.ModeLoginServer, Rules: []api.AllowRule{{Host: h.loginServer(reg), Port: 443, Purpose: "login server"}}, Hosts: []api.HostAddress{}}
	if eps := h.dataEndpoints(reg); len(eps) > 0 {
		a.Mode = api.ModeDataEndpoints
		for _, e := range eps {
			a.Rules = append(a.Rules, api.AllowRule{Host: e.Endpoint, Port: 443, Purpose: "data endpoint " + e.Region})
		}
	}
	return writeJSON(w, http.StatusOK, a)
}

// deleteSecrets removes every secret of owner; one already gone is fine.
func (h *Handler) deleteSecrets(ctx context.Context, registry, owner string) error {
	secrets, err := h.deps.Identities.Secrets(ctx, registry, owner)
	if err != nil {
		return err
	}
	for _, s := range secrets {
		if err := h.deps.Identities.DeleteSecret(ctx, registry, owner, s.Name); err != nil && !berth.IsNotFound(err) {
			return err
		}
	}
	return nil
}
