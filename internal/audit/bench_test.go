package audit

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/jsonw"
	"github.com/gatehouse/gatehouse/internal/store"
)

// benchIssuance is shaped like the server's token.issued detail.
type benchIssuance struct {
	Audience string `json:"audience"`
	Scope    string `json:"scope"`
	JTI      string `json:"jti"`
	Expires  int64  `json:"exp"`
	Service  string `json:"service,omitempty"`
	Source   string `json:"source"`
	Reused   bool   `json:"reused,omitempty"`
	Grant    string `json:"grant,omitempty"`
}

// AppendJSON writes what json.Marshal would (BenchmarkRecord checks).
func (d benchIssuance) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	b = jsonw.AppendString(jsonw.AppendKey(b, "audience"), d.Audience)
	b = jsonw.AppendString(jsonw.AppendKey(b, "scope"), d.Scope)
	b = jsonw.AppendString(jsonw.AppendKey(b, "jti"), d.JTI)
	b = strconv.AppendInt(jsonw.AppendKey(b, "exp"), d.Expires, 10)
	if d.Service != "" {
		b = jsonw.AppendString(jsonw.AppendKey(b, "service"), d.Service)
	}
	b = jsonw.AppendString(jsonw.AppendKey(b, "source"), d.Source)
	if d.Reused {
		b = append(jsonw.AppendKey(b, "reused"), "true"...)
	}
	if d.Grant != "" {
		b = jsonw.AppendString(jsonw.AppendKey(b, "grant"), d.Grant)
	}
	return append(b, '}'), nil
}

// marshalledIssuance is benchIssuance through encoding/json.
type marshalledIssuance struct{ benchIssuance }

func (marshalledIssuance) AppendJSON() {}

// BenchmarkRecord is one event appended to a spool (group commit, no
// fsync), as a token request records it; the shipper does not run.
func BenchmarkRecord(b *testing.B) {
	issued := benchIssuance{Audience: "https://es256.example.io", Scope: "read write", JTI: "Zx3kQ9mP2vL8nR4tY6wB1c",
		Expires: 1_800_000_900, Source: "203.0.113.7", Grant: "client-credentials"}
	if got, _ := issued.AppendJSON(nil); string(got) != string(must(json.Marshal(issued))) {
		b.Fatalf("benchIssuance.AppendJSON: got %s, want %s", got, must(json.Marshal(issued)))
	}
	for _, bc := range []struct {
		name   string
		detail any
	}{
		{"issued", issued},
		{"issued-marshal", marshalledIssuance{issued}},
		{"admin", map[string]any{"before": nil, "after": map[string]any{"id": "acme", "name": "Acme \"Corp\""}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sp := openSpool(b, b.TempDir(), Sync{})
			r := NewDurable(discardStore{}, sp, nil, quiet())
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r.Record(store.AuditTokenIssued, "cl_3kQ9mP2vL8nR4tY6wB", "cl_3kQ9mP2vL8nR4tY6wB", "https://es256.example.io", bc.detail)
				}
			})
		})
	}
}

// BenchmarkShip is reading a batch of spooled token.issued events back and
// decoding them for the store (whose write is left out).
func BenchmarkShip(b *testing.B) {
	sp := openSpool(b, b.TempDir(), Sync{})
	r := NewDurable(discardStore{}, sp, nil, quiet())
	const batch = 1000
	for range batch {
		r.Record(store.AuditTokenIssued, "cl_3kQ9mP2vL8nR4tY6wB", "cl_3kQ9mP2vL8nR4tY6wB", "https://es256.example.io",
			benchIssuance{Audience: "https://es256.example.io", Scope: "read write", JTI: "Zx3kQ9mP2vL8nR4tY6wB1c",
				Expires: 1_800_000_900, Source: "203.0.113.7", Grant: "client-credentials"})
	}
	log := quiet()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		payloads, _, err := sp.Read(sp.First(), batch)
		if err != nil || len(payloads) != batch {
			b.Fatalf("got %d payloads, %v; want %d", len(payloads), err, batch)
		}
		if got := decodeEvents(payloads, log); len(got) != batch {
			b.Fatalf("decoded %d events, want %d", len(got), batch)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
}

// BenchmarkDecodeEvents compares decodeEvents with json.Unmarshal (what
// it did before) on spooled token.issued events.
func BenchmarkDecodeEvents(b *testing.B) {
	rb := getRecordBuffer()
	var payloads [][]byte
	at := time.Now().UTC()
	for i := range 1000 {
		d := rb.encodeDetail(benchIssuance{Audience: "https://es256.example.io", Scope: "read write", JTI: "Zx3kQ9mP2vL8nR4tY6wB1c",
			Expires: 1_800_000_900, Source: "203.0.113.7", Grant: "client-credentials"})
		var id [eventIDMax]byte
		payloads = append(payloads, appendEvent(nil, appendEventID(id[:0], at.Add(time.Duration(i))), at, store.AuditTokenIssued,
			"cl_3kQ9mP2vL8nR4tY6wB", "cl_3kQ9mP2vL8nR4tY6wB", "https://es256.example.io", d))
	}
	log := quiet()
	for _, bc := range []struct {
		name   string
		decode func([][]byte) []store.AuditEvent
	}{
		{"hand", func(p [][]byte) []store.AuditEvent { return decodeEvents(p, log) }},
		{"json", unmarshalled},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got := bc.decode(payloads); len(got) != len(payloads) {
					b.Fatalf("decoded %d events, want %d", len(got), len(payloads))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(payloads)), "ns/event")
		})
	}
}

// discardStore drops what it is given.
type discardStore struct{}

func (discardStore) AppendAudit(context.Context, []store.AuditEvent) error { return nil }
func (discardStore) ListAudit(context.Context, store.AuditFilter) ([]store.AuditEvent, error) {
	return nil, nil
}
func (discardStore) PurgeAudit(context.Context, time.Time) (int64, error) { return 0, nil }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
