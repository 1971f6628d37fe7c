package token

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Revocations is the node's copy of revoked JWT ids, so introspection
// checks revocation without a database read. Revocations made on this node
// apply at once; Sync picks up other nodes' within its period.
type Revocations struct {
	Store store.TokenStore

	mu       sync.RWMutex
	jtis     map[string]time.Time // jti -> when the token expires
	syncedTo time.Time
}

// NewRevocations returns an empty set over st.
func NewRevocations(st store.TokenStore) *Revocations {
	return &Revocations{Store: st, jtis: map[string]time.Time{}}
}

// Revoked reports whether jti was revoked.
func (r *Revocations) Revoked(jti string) bool {
	r.mu.RLock()
	_, ok := r.jtis[jti]
	r.mu.RUnlock()
	return ok
}

// Add records a revocation in the store and in the set.
func (r *Revocations) Add(ctx context.Context, rev store.Revocation) error {
	if err := r.Store.Revoke(ctx, rev); err != nil {
		return err
	}
	r.mu.Lock()
	r.jtis[rev.JTI] = rev.ExpiresAt
	r.mu.Unlock()
	return nil
}

// Sync reads revocations made since the last sync (with overlap, since
// clocks and commits differ between nodes) and drops expired ones.
func (r *Revocations) Sync(ctx context.Context, now time.Time) error {
	r.mu.RLock()
	since := r.syncedTo.Add(-time.Minute)
	r.mu.RUnlock()
	revs, err := r.Store.ListRevocations(ctx, since)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rev := range revs {
		r.jtis[rev.JTI] = rev.ExpiresAt
	}
	for jti, exp := range r.jtis {
		if now.After(exp) {
			delete(r.jtis, jti)
		}
	}
	r.syncedTo = now
	return nil
}
