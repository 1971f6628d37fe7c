package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/tracing"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// benchServer is a gatehouse with one tenant, one API per algorithm and
// nClients clients, served in-process (no network).
func benchServer(b *testing.B, nClients int) (*Server, []admin.ClientView) {
	b.Helper()
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	srv, err := New(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv.StartBackground()
	b.Cleanup(func() { srv.Close() })
	svc := admin.NewService(srv.store, srv.catalog, nil, slog.New(slog.DiscardHandler), nil)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, "acme", ""); err != nil {
		b.Fatal(err)
	}
	grants := map[string][]string{}
	for _, alg := range store.SigningAlgs {
		aud := "https://" + strings.ToLower(alg) + ".example.io"
		if _, err := svc.CreateAPI(ctx, store.API{Audience: aud, SigningAlg: alg, Scopes: []store.Scope{{Name: "read"}}}); err != nil {
			b.Fatal(err)
		}
		grants[aud] = []string{"read"}
	}
	var clients []admin.ClientView
	for i := 0; i < nClients; i++ {
		c, plain, err := svc.CreateClient(ctx, admin.NewClient{Name: fmt.Sprint("c", i), Tenant: "acme", Grants: grants})
		if err != nil {
			b.Fatal(err)
		}
		if i < 10 {
			clients = append(clients, admin.ClientView{ClientID: c.ID, ClientSecret: plain})
		}
	}
	return srv, clients
}

// issueParallel posts body to /oauth/token from every core until b.N
// tokens were issued.
func issueParallel(b *testing.B, h http.Handler, body string) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("got %d %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkIssueToken is one whole token request through the public
// handler (parsing, authentication, policy, signing, audit, metrics,
// logging), without the network.
func BenchmarkIssueToken(b *testing.B) {
	srv, clients := benchServer(b, 10)
	h := srv.Handler()
	for _, alg := range store.SigningAlgs {
		b.Run(alg, func(b *testing.B) {
			c := clients[0]
			body := form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret,
				"audience", "https://"+strings.ToLower(alg)+".example.io")
			b.ReportAllocs()
			issueParallel(b, h, body)
		})
	}
}

// BenchmarkIssueTokenHarness is issueParallel's own cost: the same request
// and recorder against a handler that answers a fixed token-sized body, so
// that the allocations gatehouse makes for an issuance are
// BenchmarkIssueToken's less these.
func BenchmarkIssueTokenHarness(b *testing.B) {
	answer := []byte(`{"access_token":"` + strings.Repeat("x", 520) + `","scope":"read","expires_in":86400,"token_type":"Bearer"}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		w.Write(answer)
	})
	body := form("grant_type", "client_credentials", "client_id", "c1", "client_secret", "s", "audience", "https://es256.example.io")
	b.ReportAllocs()
	issueParallel(b, h, body)
}

// BenchmarkIssueTokenClients compares issuing with 10 clients in the store
// and with 100,000: the hot path reads the in-memory catalog, so the size
// of the store should not matter.
func BenchmarkIssueTokenClients(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			srv, clients := benchServer(b, 10)
			addClients(b, srv, n-10)
			h := srv.Handler()
			c := clients[0]
			body := form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", "https://eddsa.example.io")
			b.ReportAllocs()
			b.ResetTimer()
			issueParallel(b, h, body)
		})
	}
}

// addClients stores n more clients straight into the store, then reloads
// the catalog (the admin API would take minutes for 100,000).
func addClients(b *testing.B, srv *Server, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	for i := 0; i < n; i++ {
		c := store.Client{ID: fmt.Sprintf("bulk%08d", i), Name: "bulk", Tenant: "acme",
			Grants:  map[string][]string{"https://eddsa.example.io": {"read"}},
			Secrets: []store.Secret{{ID: "s", Hash: secret.HashFast(fmt.Sprint("secret-", i)), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
		if err := srv.store.CreateClient(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	if err := srv.catalog.Reload(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIssueTokenTracing compares ES256 issuance with tracing off (the
// default: no middleware, and tracing.Step neither allocates nor starts a
// span) and on (a server span and two child spans per request, to an
// exporter that drops them).
func BenchmarkIssueTokenTracing(b *testing.B) {
	srv, clients := benchServer(b, 10)
	c := clients[0]
	body := form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", "https://es256.example.io")
	tracer := tracing.NewForTest(sdktrace.NewBatchSpanProcessor(tracetest.NewNoopExporter()))
	b.Cleanup(func() { tracer.Shutdown(context.Background()) })
	for _, mode := range []struct {
		name string
		h    http.Handler
	}{
		{"off", srv.Handler()},
		{"on", tracer.Handler(srv.Handler(), func(*http.Request) string { return "/oauth/token" })},
	} {
		b.Run(mode.name, func(b *testing.B) {
			b.ReportAllocs()
			issueParallel(b, mode.h, body)
		})
	}
}
