package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// SeedOptions configures Seed.
type SeedOptions struct {
	// Clients is how many clients to create.
	Clients int
	// Concurrency is how many create requests are in flight at once.
	Concurrency int
	// Tenant owns the clients; Grants are theirs (audience -> scopes).
	Tenant string
	Grants map[string][]string
	// Create makes one client through the admin API.
	Create func(ctx context.Context, name, tenant string, grants map[string][]string) error
}

// Seed fills a gatehouse with clients through its admin API, so that the
// token endpoint can be measured with a large store (the hot path reads
// only memory, so its speed should not depend on the store's size). It
// returns how many it created before the first error.
func Seed(ctx context.Context, o SeedOptions) (int, error) {
	if o.Clients < 0 || o.Concurrency < 1 {
		return 0, fmt.Errorf("seed: clients must be >= 0 and concurrency >= 1")
	}
	var next, created atomic.Int64
	var once sync.Once
	var firstErr error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < o.Concurrency; w++ {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > int64(o.Clients) {
					return
				}
				if err := o.Create(ctx, fmt.Sprintf("bench-seed-%d", i), o.Tenant, o.Grants); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				created.Add(1)
			}
		})
	}
	wg.Wait()
	return int(created.Load()), firstErr
}
