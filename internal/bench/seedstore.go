package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ClientWriter is the part of a store SeedStore writes through
// (*sqlstore.Store is one).
type ClientWriter interface {
	GetTenant(ctx context.Context, id string) (store.Tenant, error)
	GetAPI(ctx context.Context, audience string) (store.API, error)
	CreateClients(ctx context.Context, cs []store.Client) error
}

// SeedStoreOptions configures SeedStore.
type SeedStoreOptions struct {
	Clients int
	// Batch is how many clients go into one transaction.
	Batch  int
	Tenant string
	Grants map[string][]string
	// Progress, if set, is called after each batch with the count so far.
	Progress func(done int)
}

// SeedStore writes clients straight into a store in batches, one
// transaction each: a million in minutes, where the admin API makes one
// transaction, audit event and catalog refresh per client. Each client
// gets a generated id and secret, hashed with the fast hash that
// generated secrets use (the secrets are not kept: the clients fill the
// store, they are not used). The tenant, the audiences and their scopes
// must exist. It returns how many it created before the first error.
func SeedStore(ctx context.Context, st ClientWriter, o SeedStoreOptions) (int, error) {
	if o.Clients < 0 || o.Batch < 1 {
		return 0, fmt.Errorf("seed: clients must be >= 0 and batch >= 1")
	}
	if _, err := st.GetTenant(ctx, o.Tenant); err != nil {
		return 0, fmt.Errorf("seed: tenant %q: %w", o.Tenant, err)
	}
	for aud, scopes := range o.Grants {
		api, err := st.GetAPI(ctx, aud)
		if err != nil {
			return 0, fmt.Errorf("seed: grant on %q: %w", aud, err)
		}
		for _, s := range scopes {
			if !slices.ContainsFunc(api.Scopes, func(sc store.Scope) bool { return sc.Name == s }) {
				return 0, fmt.Errorf("seed: grant on %q: the API has no scope %q", aud, s)
			}
		}
	}
	done := 0
	batch := make([]store.Client, 0, o.Batch)
	for done < o.Clients {
		batch = batch[:0]
		now := time.Now().UTC().Truncate(time.Microsecond)
		for i := done; i < o.Clients && len(batch) < o.Batch; i++ {
			batch = append(batch, store.Client{
				ID: secret.NewClientID(), Name: fmt.Sprintf("bench-seed-%d", i+1), Tenant: o.Tenant, Grants: o.Grants,
				Secrets:   []store.Secret{{ID: secret.RandomAlnum(8), Hash: secret.HashFast(secret.New()), CreatedAt: now}},
				CreatedAt: now, UpdatedAt: now,
			})
		}
		if err := st.CreateClients(ctx, batch); err != nil {
			return done, err
		}
		done += len(batch)
		if o.Progress != nil {
			o.Progress(done)
		}
	}
	return done, nil
}
