package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"berth/internal/berth"
)

// issuer is the "iss" of every token berth signs.
const issuer = "berth"

// clockSkew is how long before its issue ("iat") a token is valid, so that
// a node whose clock is slightly behind the issuer's accepts it.
const clockSkew = 30 * time.Second

// maxTokenLen bounds the tokens the parser looks at.
const maxTokenLen = 64 << 10

// The uses of a token, its "token_use" claim.
const (
	useAccess  = "access"
	useRefresh = "refresh"
)

// claims are the claims of berth's JWTs. An access token carries what it
// grants (Access) and what was asked for but refused (Refused), so that a
// request needing a refused action is answered with the reason, and one
// needing an action never asked for is sent back for a new token.
//
// An access token comes with every request, so berth writes only what
// verification needs: "iss", "aud", "exp", "iat" and the claims above,
// under the names that earlier versions read too, so that the nodes of a
// region accept each other's tokens while they are upgraded one by one.
// Tokens signed by earlier versions also carry "sub", "jti" (both ignored)
// and "nbf" (checked when present); they verify as before.
type claims struct {
	jwt.RegisteredClaims
	Use      string              `json:"token_use"`
	Kind     berth.PrincipalKind `json:"principal_kind"`
	Name     string              `json:"principal_name,omitempty"`
	Registry string              `json:"registry"`
	Access   []berth.Access      `json:"access,omitempty"`
	Refused  []refusal           `json:"refused,omitempty"`
}

// refusal is one action asked for and refused, with the reason.
type refusal struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Action string `json:"action"`
	Reason string `json:"reason"`
}

func (c *claims) principal() berth.Principal {
	return berth.Principal{Kind: c.Kind, Name: c.Name, Registry: c.Registry}
}

// notBefore returns when c becomes valid: its "nbf" when it has one, else
// clockSkew before its "iat"; false when it has neither.
func (c *claims) notBefore() (time.Time, bool) {
	switch {
	case c.NotBefore != nil:
		return c.NotBefore.Time, true
	case c.IssuedAt != nil:
		return c.IssuedAt.Add(-clockSkew), true
	}
	return time.Time{}, false
}

// newClaims fills the registered claims of a token for p, valid for ttl.
func (s *Service) newClaims(reg berth.Registry, p berth.Principal, use string, ttl time.Duration) *claims {
	now := s.now()
	return &claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Audience:  jwt.ClaimStrings{s.LoginServer(reg)},
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
		},
		Use:      use,
		Kind:     p.Kind,
		Name:     p.Name,
		Registry: p.Registry,
	}
}

// sign signs c with the active key. The header names the key ("kid") and
// the algorithm, nothing else.
func (s *Service) sign(ctx context.Context, c *claims) (string, error) {
	k, err := s.keys.signer(ctx)
	if err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	delete(t.Header, "typ")
	t.Header["kid"] = k.id
	out, err := t.SignedString(k.priv)
	if err != nil {
		return "", berth.E("auth.sign", berth.KindInternal, "signing a token: %w", err)
	}
	return out, nil
}

// keyError is what the key function of the parser fails with; its message
// is the client's.
type keyError struct{ msg string }

func (e *keyError) Error() string { return e.msg }

// verify checks raw, a token of the given use, for the login server of reg:
// signature (ES256, by a usable key), issuer, use, audience, expiry, start,
// and registry. It returns KindUnauthorized naming the first problem, or
// the error of the key store when the keys could not be loaded at all. It
// never reads the metadata store.
func (s *Service) verify(ctx context.Context, raw, use string, reg berth.Registry) (*claims, error) {
	if len(raw) > maxTokenLen {
		return nil, tokenError(use, fmt.Sprintf("is longer than %d bytes", maxTokenLen))
	}
	now := s.now()
	c, err := s.verifySignature(ctx, raw, now)
	if err != nil {
		var ke *keyError
		if errors.As(err, &ke) {
			return nil, tokenError(use, ke.msg)
		}
		return nil, err
	}
	if msg := s.problem(c, use, reg, now); msg != "" {
		return nil, tokenError(use, msg)
	}
	return c, nil
}

// tokenError is the KindUnauthorized error of verify: "<use> token <msg>".
func tokenError(use, msg string) error {
	return berth.E("auth.verify", berth.KindUnauthorized, "%s token %s", use, msg)
}

// problem returns what makes the claims c of a verified signature unfit
// for use at reg at time now, or "" when they are fit. It builds a message
// only for a problem, so that the check of a good token allocates nothing.
func (s *Service) problem(c *claims, use string, reg berth.Registry, now time.Time) string {
	start, hasStart := c.notBefore()
	switch {
	case c.Issuer != issuer:
		return fmt.Sprintf("was issued by %q, not %q", c.Issuer, issuer)
	case c.Use != use:
		switch c.Use {
		case useAccess:
			return "is required, but this is an access token"
		case useRefresh:
			return "is required, but this is a refresh token"
		}
		return "has no valid token_use claim"
	case !s.forLoginServer(c.Audience, reg):
		if len(c.Audience) == 0 {
			return "names no login server (aud)"
		}
		return fmt.Sprintf("is for login server %q, not %q", c.Audience[0], s.LoginServer(reg))
	case c.ExpiresAt == nil:
		return "has no expiry"
	case !now.Before(c.ExpiresAt.Time):
		return "expired at " + c.ExpiresAt.UTC().Format(time.RFC3339)
	case hasStart && now.Before(start):
		return "is not valid before " + start.UTC().Format(time.RFC3339)
	case c.Registry != reg.Name:
		return fmt.Sprintf("is for registry %q, not %q", c.Registry, reg.Name)
	}
	switch c.Kind {
	case berth.PrincipalAdmin, berth.PrincipalToken, berth.PrincipalOperator:
		if c.Name == "" {
			return "names no principal"
		}
	case berth.PrincipalAnonymous:
		if use == useRefresh {
			return "is for an anonymous caller"
		}
	default:
		return fmt.Sprintf("has unknown principal kind %q", c.Kind)
	}
	return ""
}

// forLoginServer reports whether aud holds the login server of reg,
// without building its name.
func (s *Service) forLoginServer(aud jwt.ClaimStrings, reg berth.Registry) bool {
	n, d := len(reg.Name), s.cfg.Domain
	for _, a := range aud {
		if len(a) == n+1+len(d) && a[:n] == reg.Name && a[n] == '.' && a[n+1:] == d {
			return true
		}
	}
	return false
}

// verifySignature parses raw and checks its ES256 signature by a key
// usable at now, remembering the result so that the same token is verified
// once. It returns a *keyError naming the problem, or the key store's
// error.
func (s *Service) verifySignature(ctx context.Context, raw string, now time.Time) (*claims, error) {
	if c, kid, ok := s.verified.get(raw, now); ok {
		k, err := s.keys.lookup(ctx, kid, now)
		if err != nil {
			return nil, err
		}
		if k != nil && k.usable(now) {
			return c, nil
		}
	}
	var storeErr error
	var kid string
	c := &claims{}
	t, err := s.parser.ParseWithClaims(raw, c, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		if kid == "" {
			return nil, &keyError{"names no signing key (kid)"}
		}
		k, err := s.keys.lookup(ctx, kid, now)
		if err != nil {
			storeErr = err
			return nil, err
		}
		if k == nil {
			return nil, &keyError{fmt.Sprintf("is signed by unknown or retired key %q", kid)}
		}
		if !k.usable(now) {
			return nil, &keyError{fmt.Sprintf("is signed by key %q, retired since %s", kid, k.notAfter.UTC().Format(time.RFC3339))}
		}
		return &k.priv.PublicKey, nil
	})
	if storeErr != nil {
		return nil, storeErr
	}
	if err != nil {
		var ke *keyError
		switch {
		case errors.As(err, &ke):
			return nil, ke
		case errors.Is(err, jwt.ErrTokenMalformed):
			return nil, &keyError{"is malformed"}
		case t != nil && t.Method != nil && t.Method.Alg() != jwt.SigningMethodES256.Alg():
			return nil, &keyError{fmt.Sprintf("is signed with %q; only ES256 is accepted", t.Method.Alg())}
		case errors.Is(err, jwt.ErrTokenUnverifiable):
			return nil, &keyError{"names no known signing algorithm"}
		}
		return nil, &keyError{"has an invalid signature"}
	}
	s.verified.put(raw, c, kid, now)
	return c, nil
}

// allows checks that the access token c covers need. An action that was
// asked for and refused when the token was issued is KindDenied with the
// reason (KindUnauthorized for an anonymous caller, who may log in); any
// other missing action is KindUnauthorized, so that the client asks for a
// token with that scope.
func (c *claims) allows(need []berth.Access) error {
	const op = "auth.Authorize"
	for _, n := range need {
		for _, act := range n.Actions {
			if c.grants(n.Type, n.Name, act) {
				continue
			}
			for _, r := range c.Refused {
				if r.Type == n.Type && r.Name == n.Name && (r.Action == act || act == "*") {
					kind := berth.KindDenied
					if c.Kind == berth.PrincipalAnonymous {
						kind = berth.KindUnauthorized
					}
					return berth.E(op, kind, "%s", r.Reason)
				}
			}
			return berth.E(op, berth.KindUnauthorized, "access token does not grant %s", FormatScope(berth.Access{Type: n.Type, Name: n.Name, Actions: []string{act}}))
		}
	}
	return nil
}

// grants reports whether the access claim holds action on (typ, name).
func (c *claims) grants(typ, name, action string) bool {
	var have verbs
	for _, a := range c.Access {
		if a.Type != typ || a.Name != name {
			continue
		}
		if slices.Contains(a.Actions, action) || slices.Contains(a.Actions, "*") {
			return true
		}
		have |= verbsOf(a.Actions)
	}
	want := verbOf(action)
	return typ == TypeRepository && want != 0 && have&want == want
}
