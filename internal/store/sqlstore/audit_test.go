package sqlstore

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// BenchmarkAppendAudit writes batches of 1000 token.issued events (the
// shipper's batch) to SQLite.
func BenchmarkAppendAudit(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "gatehouse.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	const batch = 1000
	events := make([]store.AuditEvent, batch)
	at := time.Now()
	detail := `{"audience":"https://es256.example.io","scope":"read write","jti":"Zx3kQ9mP2vL8nR4tY6wB1c","exp":1800000900,"source":"203.0.113.7","grant":"client-credentials"}`
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		b.StopTimer()
		for i := range events {
			n++
			events[i] = store.AuditEvent{ID: fmt.Sprintf("e%09d", n), At: at.Add(time.Duration(n) * time.Microsecond), Kind: store.AuditTokenIssued,
				Actor: "cl_3kQ9mP2vL8nR4tY6wB", ClientID: "cl_3kQ9mP2vL8nR4tY6wB", Target: "https://es256.example.io", Detail: detail}
		}
		b.StartTimer()
		if err := s.AppendAudit(b.Context(), events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
}

// TestAuditInsertStatements: the statement for n rows is the one
// AppendAudit built row by row before, in both flavors.
func TestAuditInsertStatements(t *testing.T) {
	for _, f := range []flavor{sqliteFlavor, postgresFlavor} {
		ins := newAuditInsert(f)
		for n := 1; n <= auditRowsPerStatement; n++ {
			var b strings.Builder
			b.WriteString(`INSERT INTO audit_events (id, at, kind, actor, client_id, target, detail) VALUES `)
			for i := range n {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`(?, ?, ?, ?, ?, ?, ?)`)
			}
			b.WriteString(` ON CONFLICT (id) DO NOTHING`)
			if got, want := ins.statement(n), f.rebind(b.String()); got != want {
				t.Fatalf("%s, %d rows:\ngot  %s\nwant %s", f.name, n, got, want)
			}
		}
	}
}
