package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/binding"
	"github.com/gatehouse/gatehouse/internal/framing"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/mtls"
	"github.com/gatehouse/gatehouse/internal/proxy"
	"github.com/gatehouse/gatehouse/internal/replay"
	"github.com/gatehouse/gatehouse/internal/tracing"
	"github.com/gatehouse/gatehouse/verify"
)

// Options are what tests change; zero values are right in production.
type Options struct {
	// GatehouseTransport carries the calls to gatehouse (metadata, JWKS,
	// introspection, revocations); nil means a default transport.
	GatehouseTransport http.RoundTripper
	// ClientCertificate returns the client certificate of a request's
	// connection, for tokens bound to one (cnf x5t#S256); nil means what
	// the configuration says: client_cert_header from trusted_proxies,
	// else the certificate presented to the gateway's own TLS listener.
	ClientCertificate func(*http.Request) (*x509.Certificate, error)
	// Tracer traces requests and carries traceparent upstream; nil: off.
	Tracer *tracing.Tracer
}

// Gateway is the reverse proxy: an http.Handler that checks each request's
// token and forwards it to its route's upstream.
type Gateway struct {
	cfg    Config
	opts   Options
	log    *slog.Logger
	issuer string
	now    func() time.Time

	tls            *tls.Config // nil: plain HTTP
	certs          mtls.Source // where client certificates come from
	clientCert     func(*http.Request) (*x509.Certificate, error)
	introspections *introspectionCache
	revoked        *revocationList
	proofs         *replay.Cache // DPoP proofs seen, for every route; memory only
	router         router
	access         http.Handler // serve behind logging.Access
}

// New builds a gateway for a configuration: it reads the client secret,
// fetches gatehouse's keys for every audience and the current revocation
// list, so that a wrong configuration or an unreachable gatehouse shows at
// start-up.
func New(ctx context.Context, cfg Config, log *slog.Logger, opts Options) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	secret, err := cfg.Gatehouse.Secret()
	if err != nil {
		return nil, err
	}
	ghTransport := opts.GatehouseTransport
	if ghTransport == nil {
		ghTransport = newTransport(cfg.Timeouts.Gatehouse)
	}
	ghHTTP := &http.Client{Transport: ghTransport, Timeout: cfg.Timeouts.Gatehouse}
	gh := &gatehouseClient{base: cfg.Gatehouse.BaseURL(), clientID: cfg.Gatehouse.ClientID, secret: secret,
		http: credentialedClient(ghTransport, cfg.Timeouts.Gatehouse)}
	g := &Gateway{
		cfg: cfg, opts: opts, log: log, issuer: cfg.Gatehouse.Issuer, now: time.Now,
		proofs:         replay.New(nil, 0, time.Now),
		introspections: newIntrospectionCache(gh, cfg.IntrospectionCacheTTL, cfg.InactiveCacheTTL, cfg.Timeouts.Gatehouse),
		revoked:        newRevocationList(gh, cfg.Timeouts.Gatehouse),
	}
	if err := g.initCertificates(); err != nil {
		return nil, err
	}
	if err := g.revoked.poll(ctx); err != nil {
		return nil, fmt.Errorf("loading the revocation list from gatehouse (does client %s hold a grant on urn:gatehouse:introspect?): %w",
			cfg.Gatehouse.ClientID, err)
	}
	routes, err := g.buildRoutes(ctx, ghHTTP, opts.Tracer.Transport(newTransport(cfg.Timeouts.Upstream)))
	if err != nil {
		return nil, err
	}
	g.router = newRouter(routes)
	g.access = opts.Tracer.Handler(logging.Access{
		Log: log,
		Fail: func(w http.ResponseWriter) {
			writeError(w, http.StatusInternalServerError, "server_error", "The gateway failed.")
		},
	}.Wrap(http.HandlerFunc(g.serve)), g.spanRoute)
	return g, nil
}

// spanRoute names a traced request by the route it matched: the route's
// path, or its service's path pattern; never the API key or the rest of
// the path.
func (g *Gateway) spanRoute(r *http.Request) string {
	m, ok := g.router.match(r.URL.Path)
	switch {
	case !ok:
		return "(no route)"
	case m.route.cfg.Service != "":
		return "/" + m.route.cfg.Service + "/v1/{api_key}"
	default:
		return m.route.cfg.Path
	}
}

func (g *Gateway) buildRoutes(ctx context.Context, ghHTTP *http.Client, upTransport http.RoundTripper) ([]*route, error) {
	verifiers := map[string]*verify.Verifier{} // by audience: one JWKS cache each
	gatehouseURL, err := url.Parse(g.cfg.Gatehouse.BaseURL())
	if err != nil {
		return nil, err
	}
	var routes []*route
	for _, rc := range g.cfg.Routes {
		v, ok := verifiers[rc.Audience]
		if !ok {
			vc := verify.Config{Issuer: g.issuer, Audience: rc.Audience, HTTPClient: ghHTTP}
			if g.cfg.Gatehouse.URL != "" {
				vc.JWKSURL = g.cfg.Gatehouse.BaseURL() + "/.well-known/jwks.json"
			}
			if v, err = verify.New(ctx, vc); err != nil {
				return nil, fmt.Errorf("route %s: %w", rc.Name, err)
			}
			verifiers[rc.Audience] = v
		}
		upstream, err := url.Parse(rc.Upstream)
		if err != nil {
			return nil, fmt.Errorf("route %s: upstream: %w", rc.Name, err)
		}
		rt := &route{cfg: rc, upstream: upstream, verifier: v}
		if rt.binding, err = binding.New(binding.Config{
			PublicURL: g.cfg.PublicURL, ClientCertificate: g.clientCert,
			RequireDPoP: rc.RequireDPoP, Replay: g.proofs, Now: g.now,
		}); err != nil {
			return nil, fmt.Errorf("route %s: %w", rc.Name, err)
		}
		rt.proxy = g.newProxy(rt, upstream, upTransport)
		if rc.ForwardTokenRequests {
			rt.tokenProxy = g.newProxy(rt, gatehouseURL, upTransport)
		}
		routes = append(routes, rt)
	}
	return routes, nil
}

// initCertificates loads the gateway's TLS certificate, if it serves TLS,
// and settles where a request's client certificate comes from.
func (g *Gateway) initCertificates() error {
	if t := g.cfg.TLS; t != nil {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		// Ask, never require: clients with unbound or DPoP-bound tokens
		// have no certificate, and chains are not judged here either (a
		// bound token names its certificate by thumbprint, RFC 8705 §3).
		g.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, ClientAuth: tls.RequestClientCert}
	}
	g.certs = mtls.Source{Header: g.cfg.ClientCertHeader, Proxies: proxy.NewTrust(g.cfg.TrustedProxies)}
	g.clientCert = g.opts.ClientCertificate
	if g.clientCert == nil {
		g.clientCert = func(r *http.Request) (*x509.Certificate, error) {
			leaf, _, err := g.certs.Certificate(r)
			return leaf, err
		}
	}
	return nil
}

// newTransport is a pooled transport whose wait for response headers is
// bounded; environment proxies are not used.
func newTransport(responseHeader time.Duration) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: responseHeader,
		ExpectContinueTimeout: time.Second,
	}
}

// Run listens on the configured address and serves until ctx is done.
func (g *Gateway) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", g.cfg.Listen)
	if err != nil {
		return err
	}
	return g.Serve(ctx, ln)
}

// Serve serves on ln and polls the revocation list until ctx is done, then
// shuts down gracefully: it stops accepting, lets requests in flight
// finish within the shutdown timeout, and stops polling.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	t := g.cfg.Timeouts
	srv := &http.Server{
		Handler:           framing.Middleware(g),
		ConnContext:       framing.ConnContext,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    g.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { g.revoked.run(bg, g.cfg.RevocationPollInterval, g.log) })
	defer func() { stopBG(); wg.Wait() }()

	served := make(chan error, 1)
	// Through package framing: a request with both Content-Length and
	// Transfer-Encoding is refused before it can reach an upstream.
	if g.tls != nil {
		cfg := g.tls.Clone()
		if len(cfg.NextProtos) == 0 {
			cfg.NextProtos = []string{"h2", "http/1.1"}
		}
		srv.TLSConfig = cfg
		go func() { served <- srv.Serve(framing.TLSListener(ln, cfg)) }()
	} else {
		go func() { served <- srv.Serve(framing.Listener(ln)) }()
	}
	g.log.Info("gateway listening", "addr", ln.Addr().String(), "issuer", g.issuer, "routes", len(g.cfg.Routes), "tls", g.tls != nil)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	g.log.Info("gateway shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), t.Shutdown)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
