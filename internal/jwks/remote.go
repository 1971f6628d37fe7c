package jwks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Defaults for the zero values of RemoteOptions.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultMinRefresh = time.Minute
)

const (
	// defaultTTL applies when the JWKS response has no max-age.
	defaultTTL = 5 * time.Minute
	// maxTTL caps a long max-age, so removed keys stop working in time.
	maxTTL = 24 * time.Hour
)

// RemoteOptions tune a Remote. The zero value is usable.
type RemoteOptions struct {
	// HTTPClient makes the requests; nil means a client whose timeout is
	// Timeout.
	HTTPClient *http.Client
	// Timeout bounds one fetch, body included. Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxBytes bounds the JWKS document. Zero means MaxDocumentBytes.
	MaxBytes int64
	// MinRefresh is the least time between two fetches, which bounds the
	// fetches that signatures with unknown key ids can cause; the cached
	// set also lives at least this long, whatever its max-age. Zero means
	// DefaultMinRefresh; a negative value means no limit.
	MinRefresh time.Duration
	// RequireHTTPS refuses a URL, or a redirect, that is not https.
	RequireHTTPS bool
	// Now returns the current time, for tests; nil means time.Now.
	Now func() time.Time
}

// A Remote is a JWKS fetched from a URL and cached. The first use fetches
// it; afterwards it is fetched again when its max-age has passed (in the
// background: the cached keys go on serving, and keep serving if the fetch
// fails) and when a lookup finds no key, at most once per MinRefresh, in
// one request shared by concurrent callers. It is safe for concurrent use.
type Remote struct {
	url        string
	client     *http.Client
	timeout    time.Duration
	maxBytes   int64
	minRefresh time.Duration
	now        func() time.Time

	group      singleflight.Group
	refreshing atomic.Bool // a background refresh is running

	mu      sync.Mutex
	set     *Set
	expires time.Time // when the cached set goes stale
	tried   time.Time // when a fetch last started or ended
	lastErr error     // of the last fetch; nil after a success
}

// NewRemote returns a Remote for the JWKS at rawURL, which must be an
// absolute http or https URL (https only with RequireHTTPS). Nothing is
// fetched until the first Load or Lookup.
func NewRemote(rawURL string, opts RemoteOptions) (*Remote, error) {
	if err := checkURL(rawURL, opts.RequireHTTPS); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	r := &Remote{
		url:        rawURL,
		client:     opts.HTTPClient,
		timeout:    opts.Timeout,
		maxBytes:   opts.MaxBytes,
		minRefresh: opts.MinRefresh,
		now:        opts.Now,
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	if r.maxBytes <= 0 {
		r.maxBytes = MaxDocumentBytes
	}
	switch {
	case r.minRefresh == 0:
		r.minRefresh = DefaultMinRefresh
	case r.minRefresh < 0:
		r.minRefresh = 0
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.client == nil {
		r.client = &http.Client{Timeout: r.timeout}
	}
	if opts.RequireHTTPS {
		r.client = httpsOnly(r.client)
	}
	return r, nil
}

// Load returns the cached set, fetching it when nothing is cached yet; a
// stale set is returned at once and refreshed in the background. With
// nothing cached and the last fetch failed less than MinRefresh ago, it
// returns that failure without fetching.
func (r *Remote) Load(ctx context.Context) (*Set, error) {
	r.mu.Lock()
	set, stale := r.set, !r.now().Before(r.expires)
	r.mu.Unlock()
	if set != nil {
		if stale {
			r.refreshInBackground(ctx)
		}
		return set, nil
	}
	if err := r.refresh(ctx); err != nil {
		return nil, err
	}
	r.mu.Lock()
	set, err := r.set, r.lastErr
	r.mu.Unlock()
	if set == nil {
		if err == nil {
			err = errors.New("no keys fetched yet")
		}
		return nil, fmt.Errorf("jwks: %s: %w", redacted(r.url), err)
	}
	return set, nil
}

// Lookup returns the keys of the set that may have signed with kid and
// alg (see Set.Find). When none does, the set is fetched again, unless it
// was fetched or tried less than MinRefresh ago, and searched once more.
// An error means no set could be had: nothing cached, or a refresh that
// failed; an empty result with a nil error means no key fits.
func (r *Remote) Lookup(ctx context.Context, kid, alg string) ([]Key, error) {
	set, err := r.Load(ctx)
	if err != nil {
		return nil, err
	}
	if keys := set.Find(kid, alg); len(keys) > 0 {
		return keys, nil
	}
	if err := r.refresh(ctx); err != nil {
		return nil, err
	}
	r.mu.Lock()
	set = r.set
	r.mu.Unlock()
	return set.Find(kid, alg), nil
}

// refreshInBackground starts a refresh unless one is running; ctx's values
// travel, its cancellation does not.
func (r *Remote) refreshInBackground(ctx context.Context) {
	if !r.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer r.refreshing.Store(false)
		_ = r.refresh(context.WithoutCancel(ctx))
	}()
}

// refresh fetches the set, unless a fetch started or ended less than
// MinRefresh ago. Concurrent callers share one fetch; the check runs
// inside the shared call, so a burst of misses costs at most one request
// per interval. A failed fetch keeps the cached set and is returned.
func (r *Remote) refresh(ctx context.Context) error {
	ch := r.group.DoChan("", func() (any, error) {
		r.mu.Lock()
		now := r.now()
		recent := !r.tried.IsZero() && now.Sub(r.tried) < r.minRefresh
		if !recent {
			r.tried = now
		}
		r.mu.Unlock()
		if recent {
			return nil, nil
		}
		// The fetch outlives a caller that gives up: others may be waiting.
		set, ttl, err := r.fetch(context.WithoutCancel(ctx))
		r.mu.Lock()
		defer r.mu.Unlock()
		now = r.now()
		r.tried, r.lastErr = now, err
		if err != nil {
			return nil, err
		}
		r.set, r.expires = set, now.Add(max(ttl, r.minRefresh))
		return nil, nil
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return fmt.Errorf("jwks: waiting for %s: %w", redacted(r.url), ctx.Err())
	}
}

// fetch GETs and parses the set, and says how long it may be cached.
func (r *Remote) fetch(ctx context.Context) (*Set, time.Duration, error) {
	body, header, err := get(ctx, r.client, r.url, r.timeout, r.maxBytes)
	if err != nil {
		return nil, 0, err
	}
	set, err := parse(body)
	if err != nil {
		return nil, 0, fmt.Errorf("jwks: %s: %w", redacted(r.url), err)
	}
	return set, maxAge(header.Get("Cache-Control")), nil
}

// checkURL accepts an absolute http or https URL; https only when
// httpsOnly is set.
func checkURL(raw string, httpsOnly bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if httpsOnly && u.Scheme != "https" {
		return fmt.Errorf("%q is not an https URL", u.Redacted())
	}
	return nil
}

// httpsOnly returns a copy of client that refuses redirects to anything
// but https, and otherwise follows client's redirect policy.
func httpsOnly(client *http.Client) *http.Client {
	c := *client
	next := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to %s: not https", req.URL.Redacted())
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// redacted hides a password in a URL for error messages.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// maxAge reads max-age from a Cache-Control header and bounds it; no-store,
// no-cache and a missing max-age give the default.
func maxAge(cacheControl string) time.Duration {
	for _, directive := range strings.Split(cacheControl, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			secs, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
			if err != nil || secs < 0 {
				return defaultTTL
			}
			return time.Duration(min(secs, int64(maxTTL/time.Second))) * time.Second
		}
	}
	return defaultTTL
}
