package bench

import (
	"context"
	"errors"
	"sync"
	"testing"
)

func TestSeed(t *testing.T) {
	var mu sync.Mutex
	names := map[string]bool{}
	create := func(ctx context.Context, name, tenant string, grants map[string][]string) error {
		mu.Lock()
		defer mu.Unlock()
		if names[name] || tenant != "acme" || len(grants["https://a.example"]) != 1 {
			return errors.New("bad call")
		}
		names[name] = true
		return nil
	}
	n, err := Seed(context.Background(), SeedOptions{Clients: 250, Concurrency: 8, Tenant: "acme",
		Grants: map[string][]string{"https://a.example": {"read"}}, Create: create})
	if err != nil || n != 250 || len(names) != 250 {
		t.Errorf("got %d created, %d distinct, %v; want 250, 250, nil", n, len(names), err)
	}

	calls := 0
	failing := func(ctx context.Context, name, tenant string, grants map[string][]string) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 5 {
			return errors.New("tenant not found")
		}
		return nil
	}
	n, err = Seed(context.Background(), SeedOptions{Clients: 1000, Concurrency: 1, Tenant: "acme", Create: failing})
	if err == nil || n != 4 {
		t.Errorf("a failing create: got %d created and %v, want 4 and the error", n, err)
	}
}
