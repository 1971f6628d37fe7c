// Package servertest runs a real gatehouse node on a loopback listener for
// the tests of the packages built around it (the gateway, the console, the
// verify package, the CLI). internal/server's own tests keep their harness,
// which reaches into the server's unexported parts.
//
// It is for tests only: nothing in a gatehouse binary imports it.
package servertest

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Gatehouse is a running node.
type Gatehouse struct {
	URL    string
	Server *server.Server
	Config config.Config
	// Creds are the bootstrap admin client's credentials.
	Creds admin.CredentialsFile
	// Logs holds everything the node logged (debug level, JSON).
	Logs *logging.Buffer

	t    testing.TB
	stop func()
}

// Start runs a node with a fresh data directory; edit may change the
// configuration (the address is the listener's, the issuer its URL unless
// edit sets one) and opts carries test options such as a clock. The node
// stops when the test ends.
func Start(t testing.TB, edit func(*config.Config), opts server.Options) *Gatehouse {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg := config.Default()
	cfg.DataDir, cfg.Addr = t.TempDir(), ts.Listener.Addr().String()
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		ts.Close()
		t.Fatal(err)
	}
	logs := &logging.Buffer{}
	log, err := logging.New(logs, "debug", "json")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), cfg, log, opts)
	if err != nil {
		ts.Close()
		t.Fatalf("starting gatehouse: %v", err)
	}
	srv.StartBackground()
	ts.Config.Handler = srv.Handler()
	ts.Start()
	g := &Gatehouse{URL: ts.URL, Server: srv, Config: cfg, Logs: logs, t: t,
		stop: sync.OnceFunc(func() { ts.Close(); srv.Close() })}
	t.Cleanup(g.stop)
	if g.Creds, err = admin.ReadCredentials(srv.CredentialsPath()); err != nil {
		t.Fatalf("reading the bootstrap credentials: %v", err)
	}
	return g
}

// Stop closes the listener and the store now (it is idempotent).
func (g *Gatehouse) Stop() { g.stop() }

// Admin returns an admin API client with a fresh token (a test's fake
// clock may have passed the last one's expiry).
func (g *Gatehouse) Admin() *adminclient.Client {
	return adminclient.New(context.Background(), g.URL, g.Creds)
}

// Do calls the admin API and fails the test on error.
func (g *Gatehouse) Do(method, path string, in, out any) {
	g.t.Helper()
	if err := g.Admin().Do(context.Background(), method, path, in, out); err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
}

// SetClientAuth registers how client id proves itself (a key, a
// certificate, require_dpop) by writing it to the store and reloading the
// node's catalog, for tests that make such clients whatever the admin API
// takes.
func (g *Gatehouse) SetClientAuth(id string, auth store.ClientAuth) {
	g.t.Helper()
	ctx := context.Background()
	if _, err := g.Server.Store().UpdateClient(ctx, id, func(c store.Client) (store.Client, error) {
		c.Auth = auth
		return c, nil
	}); err != nil {
		g.t.Fatalf("setting the auth method of %s: %v", id, err)
	}
	if err := g.Server.Catalog().Reload(ctx); err != nil {
		g.t.Fatal(err)
	}
}
