package auth

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"berth/internal/berth"
)

// HostResolver maps the Host of a request to the registry it reaches.
type HostResolver interface {
	// ResolveHost returns the registry of host (with or without port);
	// KindNotFound when no registry answers for it.
	ResolveHost(ctx context.Context, host string) (berth.Registry, error)
}

// OperatorName is the name of the operator principal in the tokens that
// /oauth2/exchange issues for the operator's credential.
const OperatorName = "operator"

// maxForm bounds the body of a token request.
const maxForm = 64 << 10

// Handler returns the token endpoints of every login server, with the
// registry taken from the request's Host:
//
//   - GET /oauth2/token: Docker's token protocol. Basic credentials, or
//     none for anonymous pull; query service, scope (repeatable, or several
//     separated by spaces), offline_token=true for a refresh token.
//   - POST /oauth2/token: the OAuth2 form, grant_type=password (username,
//     password, access_type=offline for a refresh token) or
//     grant_type=refresh_token (refresh_token), with service and scope.
//   - POST /oauth2/exchange: grant_type=access_token with the operator's
//     credential in access_token, or grant_type=password, or
//     grant_type=refresh_token; answers {"refresh_token": ...}.
//
// An access token grants what was asked for and the principal may do;
// asking for more is not an error. Errors are JSON
// {"errors":[{"code","message"}]}: 400 for a malformed request or a
// service that is not the host's login server, 401 for missing or bad
// credentials, 404 for a host no registry answers for.
func (s *Service) Handler(hosts HostResolver) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/oauth2/token", s.endpoint(hosts, map[string]endpointFunc{
		http.MethodGet:  s.tokenGet,
		http.MethodHead: s.tokenGet,
		http.MethodPost: s.tokenPost,
	}))
	mux.Handle("/oauth2/exchange", s.endpoint(hosts, map[string]endpointFunc{
		http.MethodPost: s.exchange,
	}))
	return mux
}

type endpointFunc func(w http.ResponseWriter, r *http.Request, reg berth.Registry) error

// endpoint resolves the registry of a request and dispatches on its method.
func (s *Service) endpoint(hosts HostResolver, methods map[string]endpointFunc) http.Handler {
	allowed := strings.Join(slices.Sorted(maps.Keys(methods)), ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := methods[r.Method]
		if !ok {
			w.Header().Set("Allow", allowed)
			s.writeError(w, r, berth.E("auth.endpoint", berth.KindUnsupported, "method %s is not allowed; use %s", r.Method, allowed))
			return
		}
		reg, err := hosts.ResolveHost(r.Context(), r.Host)
		if err == nil {
			err = f(w, r, reg)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// tokenResponse is the answer of /oauth2/token, with the field names of
// Docker's token protocol and of OAuth2.
type tokenResponse struct {
	Token        string `json:"token,omitempty"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	IssuedAt     string `json:"issued_at"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

func (s *Service) tokenGet(w http.ResponseWriter, r *http.Request, reg berth.Registry) error {
	const op = "auth.token"
	q := r.URL.Query()
	if err := s.checkService(reg, q.Get("service")); err != nil {
		return err
	}
	scopes, err := ParseScopes(q["scope"])
	if err != nil {
		return err
	}
	var sub subject
	user, pass, basic := r.BasicAuth()
	switch {
	case basic:
		sub, err = s.authenticate(r.Context(), reg, user, pass)
	case r.Header.Get("Authorization") != "":
		err = berth.E(op, berth.KindUnauthorized, "a token request takes Basic credentials or none")
	case !reg.AnonymousPullEnabled:
		err = berth.E(op, berth.KindUnauthorized, "no credentials, and registry %q does not allow anonymous pull", reg.Name)
	default:
		sub = anonymousSubject(reg)
	}
	if err != nil {
		return err
	}
	resp, err := s.issue(r.Context(), reg, sub, scopes, q.Get("offline_token") == "true")
	if err != nil {
		return err
	}
	resp.Token, resp.Scope = resp.AccessToken, ""
	writeJSON(w, r, http.StatusOK, resp)
	return nil
}

func (s *Service) tokenPost(w http.ResponseWriter, r *http.Request, reg berth.Registry) error {
	const op = "auth.token"
	f, err := s.form(w, r, reg)
	if err != nil {
		return err
	}
	scopes, err := ParseScopes(f["scope"])
	if err != nil {
		return err
	}
	var sub subject
	offline := false
	switch gt := f.Get("grant_type"); gt {
	case "password":
		if f.Get("username") == "" {
			return berth.E(op, berth.KindInvalid, "grant_type=password needs a username")
		}
		sub, err = s.authenticate(r.Context(), reg, f.Get("username"), f.Get("password"))
		offline = f.Get("access_type") == "offline"
	case "refresh_token":
		sub, err = s.refreshSubject(r.Context(), reg, f.Get("refresh_token"))
	default:
		return berth.E(op, berth.KindInvalid, "unsupported grant_type %q; want password or refresh_token", gt)
	}
	if err != nil {
		return err
	}
	resp, err := s.issue(r.Context(), reg, sub, scopes, offline)
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, resp)
	return nil
}

func (s *Service) exchange(w http.ResponseWriter, r *http.Request, reg berth.Registry) error {
	const op = "auth.exchange"
	f, err := s.form(w, r, reg)
	if err != nil {
		return err
	}
	var sub subject
	switch gt := f.Get("grant_type"); gt {
	case "access_token":
		cred := f.Get("access_token")
		if cred == "" {
			return berth.E(op, berth.KindInvalid, "grant_type=access_token needs an access_token")
		}
		if s.cfg.OperatorToken == nil || !s.cfg.OperatorToken(cred) {
			return berth.E(op, berth.KindUnauthorized, "the access_token is not a valid operator credential")
		}
		sub.p = berth.Principal{Kind: berth.PrincipalOperator, Name: OperatorName, Registry: reg.Name}
	case "password":
		if f.Get("username") == "" {
			return berth.E(op, berth.KindInvalid, "grant_type=password needs a username")
		}
		sub, err = s.authenticate(r.Context(), reg, f.Get("username"), f.Get("password"))
	case "refresh_token":
		sub, err = s.refreshSubject(r.Context(), reg, f.Get("refresh_token"))
	default:
		return berth.E(op, berth.KindInvalid, "unsupported grant_type %q; want access_token, password or refresh_token", gt)
	}
	if err != nil {
		return err
	}
	rt, err := s.refreshToken(r.Context(), reg, sub.p)
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, struct {
		RefreshToken string `json:"refresh_token"`
	}{rt})
	return nil
}

// form parses the body (and query) of a POST and checks its service.
func (s *Service) form(w http.ResponseWriter, r *http.Request, reg berth.Registry) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return nil, berth.E("auth.form", berth.KindInvalid, "cannot parse the form: %w", err)
	}
	if err := s.checkService(reg, r.Form.Get("service")); err != nil {
		return nil, err
	}
	return r.Form, nil
}

// checkService accepts an absent service or the login server of reg.
func (s *Service) checkService(reg berth.Registry, service string) error {
	if ls := s.LoginServer(reg); service != "" && !strings.EqualFold(service, ls) {
		return berth.E("auth.token", berth.KindInvalid, "service %q is not this login server, %q", service, ls)
	}
	return nil
}

// refreshSubject verifies a refresh token and re-evaluates its principal.
func (s *Service) refreshSubject(ctx context.Context, reg berth.Registry, raw string) (subject, error) {
	if raw == "" {
		return subject{}, berth.E("auth.token", berth.KindInvalid, "grant_type=refresh_token needs a refresh_token")
	}
	c, err := s.verify(ctx, raw, useRefresh, reg)
	if err != nil {
		return subject{}, err
	}
	return s.subjectOf(ctx, reg, c.principal())
}

// issue signs an access token granting what of scopes sub may have, and a
// refresh token too when offline is set and sub is not anonymous.
func (s *Service) issue(ctx context.Context, reg berth.Registry, sub subject, scopes []berth.Access, offline bool) (tokenResponse, error) {
	c := s.newClaims(reg, sub.p, useAccess, s.cfg.AccessTTL)
	c.Access, c.Refused = sub.grant(scopes)
	tok, err := s.sign(ctx, c)
	if err != nil {
		return tokenResponse{}, err
	}
	resp := tokenResponse{
		AccessToken: tok,
		ExpiresIn:   int64(s.cfg.AccessTTL / time.Second),
		IssuedAt:    c.IssuedAt.UTC().Format(time.RFC3339),
		Scope:       formatScopes(c.Access),
	}
	if offline && sub.p.Kind != berth.PrincipalAnonymous {
		if resp.RefreshToken, err = s.refreshToken(ctx, reg, sub.p); err != nil {
			return tokenResponse{}, err
		}
	}
	return resp, nil
}

// refreshToken signs a refresh token for p, valid for RefreshTTL.
func (s *Service) refreshToken(ctx context.Context, reg berth.Registry, p berth.Principal) (string, error) {
	return s.sign(ctx, s.newClaims(reg, p, useRefresh, s.cfg.RefreshTTL))
}

// errorBody is the error answer of the token endpoints, shaped like the
// registry API's.
type errorBody struct {
	Errors []errorItem `json:"errors"`
}

type errorItem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError maps err to a status and code in one place. Internal errors
// are logged and not shown.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := http.StatusInternalServerError, "INTERNAL_ERROR"
	switch berth.KindOf(err) {
	case berth.KindInvalid, berth.KindTooLarge:
		status, code = http.StatusBadRequest, "INVALID_REQUEST"
	case berth.KindUnauthorized:
		status, code = http.StatusUnauthorized, "UNAUTHORIZED"
	case berth.KindDenied:
		status, code = http.StatusForbidden, "DENIED"
	case berth.KindNotFound:
		status, code = http.StatusNotFound, "NAME_UNKNOWN"
	case berth.KindUnsupported:
		status, code = http.StatusMethodNotAllowed, "UNSUPPORTED"
	case berth.KindTooManyRequests:
		status, code = http.StatusTooManyRequests, "TOOMANYREQUESTS"
	case berth.KindUnavailable:
		status, code = http.StatusServiceUnavailable, "UNAVAILABLE"
	}
	msg := berth.Message(err)
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "token request failed", slog.String("host", r.Host),
			slog.String("path", r.URL.Path), slog.Any("err", err))
		if status == http.StatusInternalServerError {
			msg = "internal error; see the server log"
		}
	}
	writeJSON(w, r, status, errorBody{Errors: []errorItem{{Code: code, Message: msg}}})
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
