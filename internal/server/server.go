package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/console"
	"github.com/gatehouse/gatehouse/internal/dpop"
	"github.com/gatehouse/gatehouse/internal/framing"
	"github.com/gatehouse/gatehouse/internal/jwks"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/limits"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/proxy"
	"github.com/gatehouse/gatehouse/internal/replay"
	"github.com/gatehouse/gatehouse/internal/snapshot"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse/gatehouse/internal/token"
	"github.com/gatehouse/gatehouse/internal/tracing"
	"github.com/gatehouse/gatehouse/internal/wellknown"
	"github.com/gatehouse/gatehouse/verify"
)

// Server is one gatehouse node.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	store   store.Store
	catalog *catalog.Catalog
	keys    *keys.Set
	rotator *keys.Rotator
	issuer  *token.Issuer
	metrics *metrics.Metrics
	audit   *audit.Recorder
	limiter *limits.Limiter
	// throttle counts failed authentication at every endpoint that checks
	// a client's credentials, the console's sign-in included.
	throttle *limits.AuthThrottle
	// used makes client assertion and DPoP proof ids single-use.
	used     *replay.Cache
	stopUsed context.CancelFunc
	now      func() time.Time // nil: time.Now
	// consoleKey signs console sessions; derived from the KEK so every node
	// sharing the database accepts every node's sessions.
	consoleKey []byte
	// snapshotKey seals the snapshot a node on a shared database keeps
	// in its data directory; fromSnapshot is set while a node that started
	// from it waits for the database.
	snapshotKey  []byte
	fromSnapshot *snapshot.Store
	// tracer is nil unless the OTEL_* environment asks for traces.
	tracer *tracing.Tracer

	public http.Handler
	admin  http.Handler // nil when the admin routes share the public listener
	// loadedFrom is the change feed's end before the start-up loads.
	loadedFrom int64
	// adminRoutes lists the admin API's mux patterns, for tests that walk them.
	adminRoutes *routeTable
}

// Options are what tests change; zero values are right for production.
type Options struct {
	// Store replaces the store that cfg names.
	Store store.Store
	Now   func() time.Time
	// OutboundHTTP fetches outside documents (clients' jwks_uri); nil
	// means a default client with timeouts.
	OutboundHTTP *http.Client
}

// New builds a node: opens the store (migrating it), loads the KEK, makes
// the first signing keys and the bootstrap admin client of an empty store,
// and loads everything the hot path reads into memory.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (*Server, error) {
	st := opts.Store
	var fromSnapshot *snapshot.Store
	if st == nil {
		dsn := cfg.DB
		if dsn == "" {
			dsn = sqlstore.SQLitePath(cfg.DataDir)
		}
		var err error
		if st, err = sqlstore.Open(ctx, dsn); err != nil {
			if fromSnapshot, err = openSnapshot(ctx, cfg, dsn, err, log); err != nil {
				return nil, err
			}
			st = fromSnapshot
		}
	}
	s, err := build(ctx, cfg, log, st, fromSnapshot, opts)
	if err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

func build(ctx context.Context, cfg config.Config, log *slog.Logger, st store.Store, fromSnapshot *snapshot.Store, opts Options) (_ *Server, err error) {
	kek, err := keys.LoadKEK(cfg.KEK, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	rec, err := newRecorder(cfg, st, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && rec.Spool() != nil {
			rec.Spool().Close()
		}
	}()
	s := &Server{cfg: cfg, log: log, store: st, catalog: catalog.New(st), keys: keys.NewSet(), now: opts.Now,
		metrics: metrics.New(), audit: rec, limiter: limits.NewLimiter(st, opts.Now), throttle: limits.NewAuthThrottle(opts.Now)}
	s.audit.OnDrop = func(n int) { s.metrics.AuditDropped.Add(float64(n)) }
	s.consoleKey = kek.DeriveKey("gatehouse console session v1")
	s.snapshotKey, s.fromSnapshot = kek.DeriveKey(snapshotPurpose), fromSnapshot
	if s.tracer, err = tracing.Setup(ctx, "node"); err != nil {
		return nil, fmt.Errorf("tracing (OTEL_* settings): %w", err)
	}
	// The feed position before anything is loaded: the change follower
	// goes on from there (changes made meanwhile are applied again,
	// harmlessly) rather than loading everything a second time.
	// (A node started from its snapshot cannot read the feed: its
	// follower loads everything once the database answers.)
	if s.loadedFrom, err = st.LatestChange(ctx); err != nil {
		if fromSnapshot == nil {
			return nil, fmt.Errorf("reading the change feed: %w", err)
		}
		s.loadedFrom, err = 0, nil
	}
	s.rotator = &keys.Rotator{
		Store: st, KEK: kek, Set: s.keys, Log: log, Now: opts.Now,
		PublishDelay: cfg.KeyPublishDelay, Every: cfg.KeyRotation, MaxTokenTTL: s.maxTokenTTL,
	}
	if err := s.rotator.Ensure(ctx); err != nil {
		if errors.Is(err, keys.ErrWrongKEK) {
			return nil, fmt.Errorf("%w\n  the store's signing keys were sealed with another key-encryption key: set GATEHOUSE_KEK (or %s) to the one this store was created with", err, filepath.Join(cfg.DataDir, "kek"))
		}
		return nil, fmt.Errorf("loading signing keys: %w", err)
	}
	now := time.Now().UTC()
	if opts.Now != nil {
		now = opts.Now().UTC()
	}
	if fromSnapshot == nil { // a snapshot was written by a bootstrapped node
		created, err := admin.Bootstrap(ctx, st, s.CredentialsPath(), s.localURL()+"/oauth/token", now)
		if err != nil {
			return nil, err
		}
		if created {
			log.Info("created the bootstrap admin client; its credentials are in the data directory", "file", s.CredentialsPath())
		}
	}
	if err := s.catalog.Reload(ctx); err != nil {
		return nil, fmt.Errorf("loading clients and APIs: %w", err)
	}
	// The shared counts of the open windows, before the listener opens, so
	// that a restarted node does not start from zero.
	if err := s.limiter.Load(ctx); err != nil {
		log.Warn("loading the shared limit counts failed; counting from zero until the first sync", "err", err)
	}
	tcfg, err := s.tokenConfig(kek, opts)
	if err != nil {
		return nil, err
	}
	var shared replay.Shared
	if st.Shared() {
		shared = claimer{st}
	}
	s.used = replay.New(shared, 2*time.Second, opts.Now)
	s.issuer, err = token.NewIssuer(tcfg, s.keys, s.catalog, st, s.throttle, s.limiter, s.used, opts.Now)
	if err != nil {
		return nil, err
	}
	s.issuer.Federation().Warm(s.catalog.Trusts()...)
	if err := s.issuer.Revocations().Sync(ctx, now); err != nil {
		return nil, fmt.Errorf("loading revocations: %w", err)
	}
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// tokenConfig is the token endpoint's configuration: issuer, the CA of
// certificate clients, how clients' jwks_uri are fetched, DPoP nonces
// (keyed from the KEK, so every node accepts every node's).
func (s *Server) tokenConfig(kek *keys.KEK, opts Options) (token.Config, error) {
	ca, err := s.cfg.ClientAuthority()
	if err != nil {
		return token.Config{}, err
	}
	tc := token.Config{
		IssuerURL: s.cfg.Issuer, DefaultAudience: s.cfg.DefaultAudience, ClientCA: ca,
		JWKS: jwks.RemoteOptions{HTTPClient: opts.OutboundHTTP, RequireHTTPS: true, Timeout: 5 * time.Second},
	}
	if tc.JWKS.HTTPClient == nil {
		// Clients name their jwks_uri: never let one point gatehouse at
		// itself, its host or a cloud metadata address.
		tc.JWKS.HTTPClient = jwks.OutsideClient(tc.JWKS.Timeout)
	}
	if s.cfg.DPoPNonce {
		if tc.DPoP.Nonces, err = dpop.NewNonceIssuer(kek.DeriveKey("gatehouse dpop nonce v1"), time.Minute, opts.Now); err != nil {
			return token.Config{}, err
		}
	}
	return tc, nil
}

// claimer claims single-use ids in the store for replay.Cache.
type claimer struct{ st store.Store }

func (c claimer) ClaimIDs(ctx context.Context, ids []replay.ID) ([]bool, error) {
	used := make([]store.UsedID, len(ids))
	for i, id := range ids {
		used[i] = store.UsedID{Key: id.Key, ExpiresAt: id.ExpiresAt}
	}
	return c.st.ClaimIDs(ctx, used)
}

// CredentialsPath is where the bootstrap admin credentials are written.
func (s *Server) CredentialsPath() string { return filepath.Join(s.cfg.DataDir, "admin-client.json") }

// localURL is how a process on this machine reaches the public listener.
func (s *Server) localURL() string {
	scheme := "http"
	if s.cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + config.LocalAddr(s.cfg.Addr)
}

// maxTokenTTL is the longest lifetime any API gives its tokens.
func (s *Server) maxTokenTTL() time.Duration {
	longest := 30 * 24 * time.Hour
	if apis, err := s.store.ListAPIs(context.Background()); err == nil {
		longest = time.Hour
		for _, a := range apis {
			longest = max(longest, a.TokenTTL)
		}
	}
	return longest
}

func (s *Server) routes() error {
	proxies := proxy.NewTrust(s.cfg.TrustedProxies)
	public := http.NewServeMux()
	tokens := token.NewHandler(s.issuer, proxies, s.cfg.ClientCertHeader, &tokenObserver{metrics: s.metrics, audit: s.audit}, s.log)
	public.Handle("/oauth/token", tokens)
	public.HandleFunc("/oauth/introspect", tokens.Introspect)
	public.HandleFunc("/oauth/revoke", tokens.Revoke)
	public.HandleFunc("/oauth/revocations", tokens.Revocations)
	wellknown.Mount(public, wellknown.NewMetadata(s.cfg.Issuer), s.keys)
	public.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		oauth.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	public.HandleFunc("GET /readyz", s.ready)
	// The per-service endpoints are matched here rather than as a mux
	// pattern: /{service}/... would overlap /admin/ and /console/.
	public.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if service, ok := token.ServiceFromPath(r.URL.Path); ok {
			tokens.ServeService(w, r, service)
			return
		}
		oauth.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "No such endpoint."})
	})

	adminMux := public
	if s.cfg.AdminAddr != "" {
		adminMux = http.NewServeMux()
	}
	adminTokens, err := verify.New(context.Background(), verify.Config{
		Issuer: s.cfg.Issuer, Audience: store.AdminAudience, Keys: s.keys, Now: s.now,
	})
	if err != nil {
		return err
	}
	svc := admin.NewService(s.store, s.catalog, adminAuditor(s.audit), s.log, s.now)
	adminAPI := admin.NewHandler(svc, adminTokens, s.issuer.Revocations(), s.rotator, s.log)
	s.adminRoutes = &routeTable{mux: adminMux}
	adminAPI.Mount(s.adminRoutes)
	con, err := console.New(console.Config{
		SessionKey: s.consoleKey, Secure: s.cfg.TLSCert != "", Issuer: s.cfg.Issuer, Proxies: proxies, Now: s.now,
	}, svc, s.rotator, s.issuer.Revocations(), s.limiter, console.IssuerAuth(s.issuer), s.throttle, s.used, s.log.With("component", "console"))
	if err != nil {
		return err
	}
	con.Mount(adminMux)
	s.adminRoutes.Handle("POST /admin/v1/console/links", adminAPI.Authorized(store.ScopeWrite, con.CreateLink))
	s.adminRoutes.Handle("POST /admin/v1/tenants/{tenant}/trusts/{name}/test", adminAPI.TrustTest(s.testTrust))
	adminMux.Handle("GET /metrics", s.metrics.Handler())
	s.watchMetrics()
	s.watchLimits()

	legacy := &legacyHosts{names: map[string]bool{}, successor: strings.TrimSuffix(s.cfg.Issuer, "/") + "/oauth/token"}
	for _, h := range s.cfg.LegacyHosts {
		legacy.names[strings.ToLower(h)] = true
	}
	if sunset, err := time.Parse("2006-01-02", s.cfg.LegacySunset); err == nil {
		legacy.sunset = sunset.UTC().Format(http.TimeFormat)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	legacy.deprecation = "@" + strconv.FormatInt(today.Unix(), 10)
	legacy.onUse = func(host string) { s.metrics.LegacyHostUse.WithLabelValues(host).Inc() }

	s.public = s.tracer.Handler(observe(s.log, s.metrics, proxies, canonicalPaths(legacy.wrap(proxies, public))), spanRoute(public))
	if s.cfg.AdminAddr != "" {
		s.admin = s.tracer.Handler(observe(s.log, s.metrics, proxies, canonicalPaths(adminMux)), spanRoute(adminMux))
	}
	return nil
}

// watchMetrics exports the gauges read at scrape time.
func (s *Server) watchMetrics() {
	s.metrics.WatchKeys(func() []metrics.KeyInfo {
		var out []metrics.KeyInfo
		for _, k := range s.keys.All() {
			out = append(out, metrics.KeyInfo{KID: k.KID, Alg: k.Alg, State: k.State, CreatedAt: k.CreatedAt})
		}
		return out
	})
	s.metrics.Gauge("gatehouse_audit_queue_length", "Audit events waiting to be written.", func() float64 { return float64(s.audit.Len()) })
	watchAudit(s.metrics, s.audit)
	s.metrics.Gauge("gatehouse_clients_loaded", "Clients in this node's catalog.", func() float64 {
		n, _ := s.catalog.Counts()
		return float64(n)
	})
}

// ready reports whether the node can issue tokens. The token endpoint
// reads only memory, so without the store the node still issues JWTs for
// the clients it holds: that is 200 with status "degraded" (admin writes,
// opaque tokens and audit writes wait for the store meanwhile). Only
// missing signing keys make it 503. The ping is short, so that a
// readiness probe's own timeout never takes a working node out.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 500*time.Millisecond)
	defer cancel()
	status := map[string]string{"status": "ok", "store": "ok", "keys": "ok"}
	code := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		status["status"], status["store"] = "degraded", "unavailable"
	}
	if s.fromSnapshot != nil && !s.fromSnapshot.IsLive() {
		status["status"], status["snapshot"] = "degraded", s.fromSnapshot.WrittenAt().UTC().Format(time.RFC3339)
	}
	if !s.keys.Ready(store.SigningAlgs) {
		status["status"], status["keys"], code = "unavailable", "not loaded", http.StatusServiceUnavailable
	}
	oauth.WriteJSON(w, code, status)
}

// Handler is the public listener's handler (with the admin API unless
// AdminAddr moves it).
func (s *Server) Handler() http.Handler { return s.public }

// AdminHandler is the admin listener's handler, or nil when shared.
func (s *Server) AdminHandler() http.Handler { return s.admin }

// Catalog is the node's in-memory catalog.
func (s *Server) Catalog() *catalog.Catalog { return s.catalog }

// Store is the node's store.
func (s *Server) Store() store.Store { return s.store }

// Close writes the audit events still queued, then releases the store.
func (s *Server) Close() error {
	if s.stopUsed != nil {
		s.stopUsed()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return errors.Join(s.audit.Close(ctx), s.tracer.Shutdown(ctx), s.store.Close())
}

// StartBackground starts the audit writer, the single-use claims and the
// limits' lease loop (Run does this itself); tests that serve Handler
// without Run call it, and Close stops them.
func (s *Server) StartBackground() {
	s.audit.Start()
	ctx, cancel := context.WithCancel(context.Background())
	limiterDone := make(chan struct{})
	s.stopUsed = func() { cancel(); <-limiterDone }
	go s.used.Run(ctx)
	go func() { s.limiter.Run(ctx); close(limiterDone) }()
}

// Timeouts for every listener.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 32 << 10
	shutdownTimeout   = 20 * time.Second
)

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           framing.Middleware(h),
		ConnContext:       framing.ConnContext,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// listenerTLS is a listener's TLS settings when gatehouse terminates TLS:
// 1.2 or later, and on the public listener a request, never a demand, for
// a client certificate (RFC 8705, DESIGN §8). Nothing is verified here:
// self-signed certificates (self_signed_tls_client_auth) must get through,
// and package mtls checks chains for tls_client_auth. The admin listener
// does not ask, so that browsers on the console are not offered a
// certificate picker (they are when the console shares the public one).
func listenerTLS(public bool) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if public {
		c.ClientAuth = tls.RequestClientCert
	}
	return c
}

// serveFramed serves srv on ln, over TLS with tlsCfg and the key pair
// when certFile is set, through package framing: a request carrying both
// Content-Length and Transfer-Encoding is refused (net/http would read it
// as chunked, hiding the Content-Length a proxy in front may have used).
func serveFramed(srv *http.Server, ln net.Listener, tlsCfg *tls.Config, certFile, keyFile string) error {
	if certFile == "" {
		return srv.Serve(framing.Listener(ln))
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		ln.Close()
		return err
	}
	tlsCfg.Certificates = []tls.Certificate{pair}
	tlsCfg.NextProtos = []string{"h2", "http/1.1"}
	srv.TLSConfig = tlsCfg
	return srv.Serve(framing.TLSListener(ln, tlsCfg))
}

// Run serves until ctx is done, then shuts down gracefully: listeners stop
// accepting, requests in flight finish, background work stops.
func (s *Server) Run(ctx context.Context) error {
	if w := s.cfg.InsecureIssuerWarning(); w != "" {
		s.log.Warn(w)
	}
	var servers []*http.Server
	listen := func(addr string, h http.Handler, public bool) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		srv := newHTTPServer(h, s.log)
		servers = append(servers, srv)
		go func() {
			err := serveFramed(srv, ln, listenerTLS(public), s.cfg.TLSCert, s.cfg.TLSKey)
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("listener failed", "addr", addr, "err", err)
			}
		}()
		s.log.Info("listening", "addr", ln.Addr().String(), "issuer", s.cfg.Issuer, "tls", s.cfg.TLSCert != "")
		return nil
	}
	if err := listen(s.cfg.Addr, s.public, true); err != nil {
		return err
	}
	if s.admin != nil {
		if err := listen(s.cfg.AdminAddr, s.admin, false); err != nil {
			return err
		}
	}
	s.audit.Start()
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.background(bg) }()
	wg.Go(func() { s.watchChanges(bg) })
	wg.Go(func() { s.used.Run(bg) })
	wg.Go(func() { s.limiter.Run(bg) })
	if s.store.Shared() {
		wg.Go(func() { s.keepSnapshot(bg) })
	}

	<-ctx.Done()
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		errs = append(errs, srv.Shutdown(sctx))
	}
	stopBG()
	wg.Wait()
	errs = append(errs, s.Close())
	return errors.Join(errs...)
}

// background runs the periodic work: key rotation steps and a full catalog
// reload as the safety net for changes made elsewhere.
func (s *Server) background(ctx context.Context) {
	keyTick := time.NewTicker(30 * time.Second)
	// The first reload too waits its size's interval: a million-client
	// node would otherwise rebuild its catalog a minute after start.
	reload := time.NewTicker(reloadInterval(s.catalog.Counts()))
	purge := time.NewTicker(10 * time.Minute)
	defer keyTick.Stop()
	defer reload.Stop()
	defer purge.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-keyTick.C:
			if err := s.rotator.Tick(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("signing key rotation step failed", "err", err)
			}
		case <-purge.C:
			if n, err := s.store.PurgeExpired(ctx, time.Now()); err != nil && ctx.Err() == nil {
				s.log.Warn("purging expired tokens failed", "err", err)
			} else if n > 0 {
				s.log.Info("purged expired opaque tokens and revocations", "rows", n)
			}
			if s.cfg.AuditRetention > 0 {
				if n, err := s.store.PurgeAudit(ctx, time.Now().Add(-s.cfg.AuditRetention)); err != nil && ctx.Err() == nil {
					s.log.Warn("purging old audit events failed", "err", err)
				} else if n > 0 {
					s.log.Info("purged audit events past retention", "rows", n)
				}
			}
		case <-reload.C:
			if err := s.catalog.Reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("catalog reload failed", "err", err)
			}
			reload.Reset(reloadInterval(s.catalog.Counts()))
		}
	}
}

// reloadInterval spaces the safety-net reloads by the catalog's size: a
// minute, or a millisecond a client when that is longer (a full reload
// reads every client, some microseconds each, so it stays near 1% of a
// core; the change feed, not this, is what keeps nodes current).
func reloadInterval(clients, _ int) time.Duration {
	return max(time.Minute, time.Duration(clients)*time.Millisecond)
}

// TickKeys runs one key-rotation step now (tests and operators' tools; the
// background loop does this every 30 seconds).
func (s *Server) TickKeys(ctx context.Context) error { return s.rotator.Tick(ctx) }

// FlushAudit writes the queued audit events now (tests; the background
// writer does this within a second).
func (s *Server) FlushAudit(ctx context.Context) error { return s.audit.Flush(ctx) }

// PublicKey returns a published key's public half, or nil.
func (s *Server) PublicKey(kid string) any {
	if k := s.keys.Lookup(kid); k != nil {
		return k.Public
	}
	return nil
}
