package catalog_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// BenchmarkCatalogMemory reports the live heap a loaded catalog holds per
// client (B/client), for clients like those `gatehouse bench seed` makes:
// one tenant, one grant, one fast-hashed secret.
func BenchmarkCatalogMemory(b *testing.B) {
	const n = 5000
	ctx := b.Context()
	st, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "acme", CreatedAt: t0}); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for i := range n {
		c := store.Client{ID: secret.NewClientID(), Name: fmt.Sprintf("bench-seed-%d", i), Tenant: "acme",
			Grants:    map[string][]string{apiAud: {"read", "write"}},
			Secrets:   []store.Secret{{ID: secret.RandomAlnum(8), Hash: secret.HashFast(secret.New()), CreatedAt: now}},
			CreatedAt: now, UpdatedAt: now}
		if err := st.CreateClient(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var perClient float64
	for b.Loop() {
		before := liveHeap()
		cat := catalog.New(st)
		if err := cat.Reload(ctx); err != nil {
			b.Fatal(err)
		}
		perClient = float64(liveHeap()-before) / n
		runtime.KeepAlive(cat)
	}
	b.ReportMetric(perClient, "B/client")
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
