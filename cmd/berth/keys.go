package main

import (
	"context"
	"strings"

	"berth/internal/berth"
)

// namespacedKeys gives one user of the shared signing-key table its own
// namespace: it stores keys under prefix+ID and lists only those, with the
// prefix removed, so the bearer-token keys and the data-endpoint keys never
// see (or rotate away) each other's keys.
type namespacedKeys struct {
	store  berth.KeyStore
	prefix string
}

func (n namespacedKeys) SigningKeys(ctx context.Context) ([]berth.SigningKey, error) {
	all, err := n.store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	var own []berth.SigningKey
	for _, k := range all {
		if id, ok := strings.CutPrefix(k.ID, n.prefix); ok {
			k.ID = id
			own = append(own, k)
		}
	}
	return own, nil
}

func (n namespacedKeys) PutSigningKey(ctx context.Context, k berth.SigningKey) error {
	k.ID = n.prefix + k.ID
	return n.store.PutSigningKey(ctx, k)
}

func (n namespacedKeys) DeleteSigningKey(ctx context.Context, id string) error {
	return n.store.DeleteSigningKey(ctx, n.prefix+id)
}
