package keys

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// JWKSMaxAge is how long resource servers may cache the JWKS.
const JWKSMaxAge = 5 * time.Minute

// Rotator keeps the stored signing keys moving through their states
// (next -> current -> retired -> removed) and the node's Set in step. Every
// state change is a compare-and-swap in the store, so nodes sharing a
// database agree on it without talking to each other.
type Rotator struct {
	Store store.Store
	KEK   *KEK
	Set   *Set
	Log   *slog.Logger
	// PublishDelay is how long a new key is in the JWKS before it signs;
	// longer than JWKSMaxAge so cached copies already hold it.
	PublishDelay time.Duration
	// Every is the automatic rotation period; zero turns it off.
	Every time.Duration
	// MaxTokenTTL is how long a retired key stays published: the longest
	// lifetime a token it signed may have.
	MaxTokenTTL func() time.Duration
	Now         func() time.Time

	// loadMu serialises Load, from reading the keys to swapping the Set,
	// so that a load that read older keys never replaces a newer one.
	loadMu sync.Mutex
}

func (r *Rotator) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// List returns the stored keys.
func (r *Rotator) List(ctx context.Context) ([]store.SigningKey, error) { return r.Store.ListKeys(ctx) }

// Load opens the stored keys into the Set.
func (r *Rotator) Load(ctx context.Context) error {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	ks, err := r.Store.ListKeys(ctx)
	if err != nil {
		return err
	}
	return r.Set.Load(ks, r.KEK)
}

// Ensure gives every supported algorithm a current key (a first start, or
// an algorithm added since), then loads the Set. Nodes starting together
// on an empty database agree on one key per algorithm: each adds it as the
// next key, which the store keeps one of, and promotes it at once by
// compare-and-swap (nothing has been signed yet, so there is nothing to
// publish it before).
func (r *Rotator) Ensure(ctx context.Context) error {
	ks, err := r.Store.ListKeys(ctx)
	if err != nil {
		return err
	}
	// Open every stored key first: a wrong KEK must fail here, clearly,
	// before anything new is written with it.
	if err := r.Set.Load(ks, r.KEK); err != nil {
		return err
	}
	missing := false
	for _, alg := range store.SigningAlgs {
		if r.Set.Current(alg) != nil {
			continue
		}
		missing = true
		k, err := Generate(alg, store.KeyNext, r.now(), r.KEK)
		if err != nil {
			return err
		}
		if err := r.Store.CreateKey(ctx, k); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return err
		}
	}
	if missing {
		if ks, err = r.Store.ListKeys(ctx); err != nil {
			return err
		}
		for _, k := range ks {
			if k.State == store.KeyNext && r.Set.Current(k.Alg) == nil {
				if err := r.promote(ctx, k, r.now()); err != nil {
					return err
				}
			}
		}
	}
	return r.Load(ctx)
}

// Rotate adds a next key for every algorithm that has none; it starts
// signing after PublishDelay (on a Tick). It returns the stored keys.
func (r *Rotator) Rotate(ctx context.Context) ([]store.SigningKey, error) {
	ks, err := r.Store.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	hasNext := map[string]bool{}
	for _, k := range ks {
		if k.State == store.KeyNext {
			hasNext[k.Alg] = true
		}
	}
	now := r.now()
	for _, alg := range store.SigningAlgs {
		if hasNext[alg] {
			continue
		}
		k, err := Generate(alg, store.KeyNext, now, r.KEK)
		if err != nil {
			return nil, err
		}
		k.ActivatesAt = now.Add(r.PublishDelay)
		// The store keeps one next key per algorithm: ErrAlreadyExists
		// means another node rotated at the same moment, and its key is
		// the one every node will use.
		if err := r.Store.CreateKey(ctx, k); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return nil, err
		}
	}
	if err := r.Load(ctx); err != nil {
		return nil, err
	}
	return r.Store.ListKeys(ctx)
}

// Tick does what is due: starts an automatic rotation, promotes next keys
// whose publish delay has passed (retiring the key they replace), and
// removes retired keys whose last token has expired. Then it reloads.
func (r *Rotator) Tick(ctx context.Context) error {
	ks, err := r.Store.ListKeys(ctx)
	if err != nil {
		return err
	}
	now := r.now()
	if r.Every > 0 && dueForRotation(ks, now, r.Every) {
		if _, err := r.Rotate(ctx); err != nil {
			return err
		}
		if ks, err = r.Store.ListKeys(ctx); err != nil {
			return err
		}
	}
	for _, k := range ks {
		switch {
		case k.State == store.KeyNext && !now.Before(k.ActivatesAt):
			if err := r.promote(ctx, k, now); err != nil {
				return err
			}
		case k.State == store.KeyRetired && k.RemoveAfter != nil && now.After(*k.RemoveAfter):
			if err := r.Store.DeleteKey(ctx, k.KID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			r.Log.InfoContext(ctx, "signing key removed", "kid", k.KID, "alg", k.Alg)
		}
	}
	return r.Load(ctx)
}

// dueForRotation reports whether some algorithm's current key is older than
// every and no next key is waiting for it.
func dueForRotation(ks []store.SigningKey, now time.Time, every time.Duration) bool {
	waiting := map[string]bool{}
	for _, k := range ks {
		if k.State == store.KeyNext {
			waiting[k.Alg] = true
		}
	}
	for _, k := range ks {
		if k.State == store.KeyCurrent && !waiting[k.Alg] && now.Sub(k.ActivatesAt) >= every {
			return true
		}
	}
	return false
}

// promote makes next current and retires the key it replaces, in one
// transaction that is also a compare-and-swap: a node that loses the race
// finds next no longer next and leaves it.
func (r *Rotator) promote(ctx context.Context, next store.SigningKey, now time.Time) error {
	promoted, err := r.Store.PromoteKey(ctx, next.KID, now, now.Add(r.MaxTokenTTL()+time.Minute))
	if err != nil {
		return err
	}
	if promoted {
		r.Log.InfoContext(ctx, "signing key promoted", "kid", next.KID, "alg", next.Alg)
	}
	return nil
}
