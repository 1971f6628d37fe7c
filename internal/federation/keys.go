package federation

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gatehouse/gatehouse/internal/assertion"
	"github.com/gatehouse/gatehouse/internal/jwks"
)

// maxSources bounds the cached key sources; past it, they start over.
const maxSources = 10_000

// sources holds one key source per distinct static JWKS, jwks_uri or
// discovered issuer, shared by every trust that names it and kept across
// catalog refreshes, so that a trust's keys stay cached while it is
// edited and while its issuer is down.
type sources struct {
	remote jwks.RemoteOptions

	mu   sync.Mutex
	byID map[string]assertion.KeyFinder
}

// finder returns the key source of t: its static JWKS, its jwks_uri, or
// OIDC discovery of its issuer.
func (s *sources) finder(t *Trust) (assertion.KeyFinder, error) {
	id := "discover:" + t.Issuer
	switch {
	case t.JWKS != "":
		id = "static:" + t.JWKS
	case t.JWKSURI != "":
		id = "uri:" + t.JWKSURI
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.byID[id]; ok {
		return f, nil
	}
	var f assertion.KeyFinder
	var err error
	switch {
	case t.JWKS != "":
		f, err = jwks.Parse([]byte(t.JWKS))
		if err != nil {
			return nil, fmt.Errorf("the trust's static JWKS: %w", err)
		}
	case t.JWKSURI != "":
		f, err = jwks.NewRemote(t.JWKSURI, s.remote)
		if err != nil {
			return nil, fmt.Errorf("the trust's jwks_uri: %w", err)
		}
	default:
		if err := checkIssuerURL(t.Issuer, s.remote.RequireHTTPS); err != nil {
			return nil, err
		}
		f = &discovered{issuer: t.Issuer, opts: s.remote}
	}
	if len(s.byID) >= maxSources {
		s.byID = map[string]assertion.KeyFinder{}
	}
	s.byID[id] = f
	return f, nil
}

// checkIssuerURL accepts an issuer that discovery can be run against.
func checkIssuerURL(issuer string, httpsOnly bool) error {
	u, err := url.Parse(issuer)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return fmt.Errorf("issuer %q is not an http(s) URL, so its keys cannot be discovered: give the trust a jwks_uri or a static JWKS", issuer)
	case httpsOnly && u.Scheme != "https":
		return fmt.Errorf("issuer %q is not https, so its keys are not discovered: give the trust a jwks_uri or a static JWKS", issuer)
	}
	return nil
}

// discovered finds an issuer's jwks_uri by OIDC discovery once, then
// serves its keys through a jwks.Remote (cached, refreshed in the
// background). A failed discovery is retried at most once per MinRefresh.
type discovered struct {
	issuer string
	opts   jwks.RemoteOptions
	group  singleflight.Group

	mu      sync.Mutex
	remote  *jwks.Remote
	tried   time.Time
	lastErr error
}

// Lookup finds the keys for kid and alg at the discovered jwks_uri.
func (d *discovered) Lookup(ctx context.Context, kid, alg string) ([]jwks.Key, error) {
	r, err := d.load(ctx)
	if err != nil {
		return nil, err
	}
	return r.Lookup(ctx, kid, alg)
}

func (d *discovered) load(ctx context.Context) (*jwks.Remote, error) {
	now := d.now()
	d.mu.Lock()
	r, recent, lastErr := d.remote, !d.tried.IsZero() && now.Sub(d.tried) < d.minRefresh(), d.lastErr
	d.mu.Unlock()
	if r != nil {
		return r, nil
	}
	if recent && lastErr != nil {
		return nil, lastErr
	}
	ch := d.group.DoChan("", func() (any, error) {
		// The discovery outlives a caller that stops waiting: the next
		// request finds its result.
		uri, err := jwks.Discover(context.WithoutCancel(ctx), d.client(), d.issuer)
		var r *jwks.Remote
		if err == nil {
			r, err = jwks.NewRemote(uri, d.opts)
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		d.tried = d.now()
		if err != nil {
			d.lastErr = fmt.Errorf("discovery of %s: %w", d.issuer, err)
			return nil, d.lastErr
		}
		d.remote, d.lastErr = r, nil
		return r, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*jwks.Remote), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("discovery of %s: no answer in time: %w", d.issuer, ctx.Err())
	}
}

func (d *discovered) client() *http.Client {
	if d.opts.HTTPClient != nil {
		return d.opts.HTTPClient
	}
	return &http.Client{Timeout: d.timeout()}
}

func (d *discovered) timeout() time.Duration {
	if d.opts.Timeout > 0 {
		return d.opts.Timeout
	}
	return jwks.DefaultTimeout
}

func (d *discovered) minRefresh() time.Duration {
	switch {
	case d.opts.MinRefresh < 0:
		return 0
	case d.opts.MinRefresh == 0:
		return jwks.DefaultMinRefresh
	}
	return d.opts.MinRefresh
}

func (d *discovered) now() time.Time {
	if d.opts.Now != nil {
		return d.opts.Now()
	}
	return time.Now()
}

// warmTimeout bounds a background warm-up fetch.
const warmTimeout = 30 * time.Second

// Warm fetches the keys of trusts whose source is remote and not cached
// yet, in the background, so that their first token request finds them
// (nodes call it when they load or refresh trusts). It never blocks.
func (e *Engine) Warm(trusts ...*Trust) {
	for _, t := range trusts {
		f, err := e.sources.finder(t)
		if err != nil {
			continue // the request will say why
		}
		var load func(context.Context) error
		switch src := f.(type) {
		case *jwks.Remote:
			load = func(ctx context.Context) error { _, err := src.Load(ctx); return err }
		case *discovered:
			load = func(ctx context.Context) error {
				r, err := src.load(ctx)
				if err == nil {
					_, err = r.Load(ctx)
				}
				return err
			}
		default:
			continue
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), warmTimeout)
			defer cancel()
			_ = load(ctx)
		}()
	}
}
