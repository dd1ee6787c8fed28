package auth

import (
	"context"
	"fmt"
	"log/slog"

	"berth/internal/berth"
)

// subject is an authenticated principal with what it may do.
type subject struct {
	p        berth.Principal
	grants   Grants
	scopeMap string // the scope map of a token, for messages
	anonPull bool   // for an anonymous caller: whether anonymous pull is on
}

// anonymous returns the subject of a request without credentials: refused
// with KindUnauthorized unless anonymous pull is enabled and need asks for
// something.
func (s *Service) anonymous(reg berth.Registry, need []berth.Access) (subject, error) {
	const op = "auth.Authorize"
	if len(need) == 0 {
		return subject{}, berth.E(op, berth.KindUnauthorized, "no credentials")
	}
	if !reg.AnonymousPullEnabled {
		return subject{}, berth.E(op, berth.KindUnauthorized, "no credentials, and registry %q does not allow anonymous pull", reg.Name)
	}
	return anonymousSubject(reg), nil
}

func anonymousSubject(reg berth.Registry) subject {
	return subject{
		p:        berth.Principal{Kind: berth.PrincipalAnonymous, Registry: reg.Name},
		grants:   anonymousGrants(),
		anonPull: true,
	}
}

// check returns nil when sub may do everything in need, else an error
// naming the first missing action: KindDenied, or KindUnauthorized for an
// anonymous caller (who may log in).
func (sub subject) check(need []berth.Access) error {
	for _, n := range need {
		for _, act := range n.Actions {
			if sub.may(n.Type, n.Name, act) {
				continue
			}
			kind := berth.KindDenied
			if sub.p.Kind == berth.PrincipalAnonymous {
				kind = berth.KindUnauthorized
			}
			return berth.E("auth.Authorize", kind, "%s", sub.refusal(n.Type, n.Name, act))
		}
	}
	return nil
}

// may reports whether sub may do action on (typ, name).
func (sub subject) may(typ, name, action string) bool {
	switch typ {
	case TypeRepository:
		return sub.grants.Allows(name, action)
	case TypeRegistry:
		return name == CatalogName && action == "*" && sub.grants.AllowsCatalog()
	}
	return false
}

// maxRefusals bounds the refusals an access token carries, and so its size;
// an action refused past them is answered "not granted" instead of with
// the reason.
const maxRefusals = 16

// grant returns what of req sub may have, as an access claim (never nil),
// and what it may not, with reasons. Unknown types and actions are dropped.
func (sub subject) grant(req []berth.Access) ([]berth.Access, []refusal) {
	granted, refused := sub.grantAll(req)
	if len(refused) > maxRefusals {
		refused = refused[:maxRefusals]
	}
	return granted, refused
}

func (sub subject) grantAll(req []berth.Access) ([]berth.Access, []refusal) {
	granted := []berth.Access{}
	var refused []refusal
	for _, a := range req {
		switch a.Type {
		case TypeRepository:
			want := verbsOf(a.Actions)
			have := want & sub.grants.verbsFor(a.Name)
			if have != 0 {
				granted = append(granted, berth.Access{Type: a.Type, Name: a.Name, Actions: have.actions()})
			}
			for _, act := range (want &^ have).actions() {
				refused = append(refused, refusal{Type: a.Type, Name: a.Name, Action: act, Reason: sub.refusal(a.Type, a.Name, act)})
			}
		case TypeRegistry:
			for _, act := range a.Actions {
				if a.Name != CatalogName || act != "*" {
					continue
				}
				if sub.grants.AllowsCatalog() {
					granted = append(granted, berth.Access{Type: a.Type, Name: a.Name, Actions: []string{"*"}})
				} else {
					refused = append(refused, refusal{Type: a.Type, Name: a.Name, Action: act, Reason: sub.refusal(a.Type, a.Name, act)})
				}
			}
		}
	}
	return granted, refused
}

// refusal words why sub may not do action on (typ, name).
func (sub subject) refusal(typ, name, action string) string {
	what := "list the catalog"
	switch {
	case typ == TypeRepository:
		what = actionPhrase(action, name)
	case typ != TypeRegistry || name != CatalogName || action != "*":
		what = fmt.Sprintf("%s %s:%s", action, typ, name)
	}
	switch sub.p.Kind {
	case berth.PrincipalToken:
		if typ != TypeRepository {
			return fmt.Sprintf("token %q may not %s: its scope map %q grants metadata/read on no repository", sub.p.Name, what, sub.scopeMap)
		}
		granted := "nothing on it"
		if v := sub.grants.verbsFor(name); v != 0 {
			granted = v.scopeMapActions()
		}
		return fmt.Sprintf("token %q may not %s: its scope map %q grants %s", sub.p.Name, what, sub.scopeMap, granted)
	case berth.PrincipalAnonymous:
		if sub.anonPull {
			return fmt.Sprintf("anonymous access may not %s: registry %q allows anonymous pull only; log in", what, sub.p.Registry)
		}
		return fmt.Sprintf("anonymous access may not %s: registry %q does not allow anonymous pull", what, sub.p.Registry)
	}
	return fmt.Sprintf("%s may not %s", sub.p, what)
}

// subjectOf re-evaluates principal p of reg, as a refresh token names it:
// the admin user must still be enabled, a token must still exist and be
// enabled. It returns KindUnauthorized when that is no longer so.
func (s *Service) subjectOf(ctx context.Context, reg berth.Registry, p berth.Principal) (subject, error) {
	const op = "auth.principal"
	switch p.Kind {
	case berth.PrincipalOperator:
		return subject{p: p, grants: AllGrants()}, nil
	case berth.PrincipalAdmin:
		if !reg.AdminUserEnabled {
			return subject{}, berth.E(op, berth.KindUnauthorized, "the admin user of registry %q is disabled", reg.Name)
		}
		return subject{p: p, grants: AllGrants()}, nil
	case berth.PrincipalToken:
		t, err := s.enabledToken(ctx, reg, p.Name)
		if err != nil {
			return subject{}, err
		}
		return s.tokenSubject(ctx, reg, t)
	}
	return subject{}, berth.E(op, berth.KindUnauthorized, "principal %s cannot hold a refresh token", p)
}

// enabledToken returns token name of reg; KindUnauthorized if it does not
// exist or is disabled.
func (s *Service) enabledToken(ctx context.Context, reg berth.Registry, name string) (berth.Token, error) {
	const op = "auth.token"
	t, err := s.store.Token(ctx, reg.Name, name)
	if berth.IsNotFound(err) {
		return berth.Token{}, berth.E(op, berth.KindUnauthorized, "user %q does not exist in registry %q", name, reg.Name)
	}
	if err != nil {
		return berth.Token{}, berth.Wrap(op, berth.KindOf(err), err)
	}
	if !t.Enabled {
		return berth.Token{}, berth.E(op, berth.KindUnauthorized, "token %q is disabled", name)
	}
	return t, nil
}

// tokenSubject compiles the scope map of token t. A scope map that is gone
// or invalid grants nothing (and is logged), so the token fails closed;
// other errors of the store are returned.
func (s *Service) tokenSubject(ctx context.Context, reg berth.Registry, t berth.Token) (subject, error) {
	sub := subject{p: berth.Principal{Kind: berth.PrincipalToken, Name: t.Name, Registry: reg.Name}, scopeMap: t.ScopeMap}
	m, ok := BuiltInScopeMap(reg.Name, t.ScopeMap)
	if !ok {
		var err error
		m, err = s.store.ScopeMap(ctx, reg.Name, t.ScopeMap)
		if berth.IsNotFound(err) {
			s.log.ErrorContext(ctx, "token's scope map does not exist; it grants nothing",
				slog.String("registry", reg.Name), slog.String("token", t.Name), slog.String("scopeMap", t.ScopeMap))
			return sub, nil
		}
		if err != nil {
			return subject{}, berth.Wrap("auth.scopeMap", berth.KindOf(err), err)
		}
	}
	g, err := GrantsOf(m.Actions)
	if err != nil {
		s.log.ErrorContext(ctx, "token's scope map is invalid; it grants nothing",
			slog.String("registry", reg.Name), slog.String("token", t.Name), slog.String("scopeMap", t.ScopeMap), slog.Any("err", err))
		return sub, nil
	}
	sub.grants = g
	return sub, nil
}
