package bench

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// TokenOptions configures Token. Zero fields take the defaults.
type TokenOptions struct {
	// URL is the server's base URL; requests go to URL/oauth/token.
	URL          string
	ClientID     string
	ClientSecret string
	// Audience may be empty when the server has a default audience.
	Audience string
	// Scope is the space-separated scope to ask for; empty asks for all.
	Scope string
	Auth  AuthMethod
	// Key signs a new client assertion for every request when Auth is
	// AuthPrivateKeyJWT (or the outside tokens of AuthFederated): an *ecdsa.PrivateKey (P-256), *rsa.PrivateKey or
	// ed25519.PrivateKey. Alg, when set, must fit it (ES256, RS256,
	// EdDSA); KeyID is the assertions' kid. ClientSecret is then unused.
	Key   crypto.Signer
	Alg   string
	KeyID string
	// DPoP sends a new DPoP proof (RFC 9449, ES256, a key made for the
	// run) with every request, so every token is DPoP-bound.
	DPoP bool
	// Concurrency is the number of workers, each with at most one request
	// in flight on its own keep-alive connection; default 16.
	Concurrency int
	// Rate, when above zero, sends at that many requests per second
	// (open loop) instead of as fast as the workers can (closed loop).
	Rate float64
	// Duration of the measured run; default 15s.
	Duration time.Duration
	// Warmup runs the same load for this long first, unmeasured, so the
	// connections are open and the server is warm; zero skips it.
	Warmup time.Duration
	// Timeout bounds one request; default 10s.
	Timeout time.Duration
	// Verify checks every token's signature against URL/.well-known/jwks.json.
	Verify bool
}

// TokenResult is what Token measured. Latency covers the token answers
// (200) only; in open loop it runs from each request's intended send time.
type TokenResult struct {
	URL             string        `json:"url"`
	Auth            AuthMethod    `json:"auth"`
	AssertionAlg    string        `json:"assertion_alg,omitempty"`
	DPoP            bool          `json:"dpop,omitempty"`
	Mode            string        `json:"mode"` // "closed-loop" or "open-loop"
	Concurrency     int           `json:"concurrency"`
	Elapsed         time.Duration `json:"-"`
	Requests        uint64        `json:"requests"`
	OK              uint64        `json:"ok"`
	TokensPerSecond float64       `json:"tokens_per_second"`
	Latency         Summary       `json:"latency"`
	Failures        []Failure     `json:"failures"`
	TransportErrors uint64        `json:"transport_errors"`
	TransportKinds  []ErrorCount  `json:"transport_error_kinds"`
	OpenLoop        *OpenLoop     `json:"open_loop,omitempty"`
	Verification    *Verification `json:"verification,omitempty"`
}

// OpenLoop reports how well an open-loop run kept its schedule.
type OpenLoop struct {
	Rate float64 `json:"rate"`
	// Scheduled is the number of sends the duration held at Rate.
	Scheduled uint64 `json:"scheduled"`
	Sent      uint64 `json:"sent"`
	// Behind counts sends that started more than LateThreshold after their
	// intended time: every worker was busy (or the machine was).
	Behind uint64 `json:"behind"`
	// Unsent is the backlog still waiting when the duration ended.
	Unsent uint64        `json:"unsent"`
	MaxLag time.Duration `json:"-"`
}

// LateThreshold is how late a send may start before it counts as Behind.
const LateThreshold = time.Millisecond

// MarshalJSON writes MaxLag in milliseconds.
func (o OpenLoop) MarshalJSON() ([]byte, error) {
	type plain OpenLoop
	return marshalWith(plain(o), "max_lag_ms", ms(o.MaxLag))
}

// Verification reports the --verify checks.
type Verification struct {
	Verified    uint64 `json:"verified"`
	Failed      uint64 `json:"failed"`
	FirstError  string `json:"first_error,omitempty"`
	JWKSFetches uint64 `json:"jwks_fetches"`
}

// MarshalJSON writes Elapsed in seconds.
func (r TokenResult) MarshalJSON() ([]byte, error) {
	type plain TokenResult
	return marshalWith(plain(r), "elapsed_s", r.Elapsed.Seconds())
}

// Err says why the run counts as failed: a token failed verification, or
// no request got a token. It is nil for a run that got tokens, even if
// some requests failed (those are in Failures and TransportErrors).
func (r TokenResult) Err() error {
	if v := r.Verification; v != nil && v.Failed > 0 {
		return fmt.Errorf("%d of %d tokens failed verification; first: %s", v.Failed, v.Failed+v.Verified, v.FirstError)
	}
	if r.OK == 0 {
		if r.Requests == 0 {
			return errors.New("no request was sent")
		}
		return fmt.Errorf("all %d requests failed", r.Requests)
	}
	return nil
}

func (o TokenOptions) withDefaults() (TokenOptions, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o, fmt.Errorf("--url %q is not an http(s) URL", o.URL)
	}
	switch {
	case o.ClientID == "":
		return o, errors.New("a client id is needed")
	case (o.Auth == AuthPrivateKeyJWT || o.Auth == AuthFederated) && o.Key == nil:
		return o, fmt.Errorf("%s needs a key to sign the assertions with", o.Auth)
	case o.Auth != AuthPrivateKeyJWT && o.Auth != AuthFederated && o.Key != nil:
		return o, errors.New("a key signs assertions: it goes with private_key_jwt or federated")
	case o.Auth != AuthPrivateKeyJWT && o.Auth != AuthFederated && o.ClientSecret == "":
		return o, errors.New("a client secret is needed (or private_key_jwt and a key)")
	}
	if o.Rate < 0 {
		return o, fmt.Errorf("rate %v is negative", o.Rate)
	}
	if o.Auth == "" {
		o.Auth = AuthPost
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Duration <= 0 {
		o.Duration = 15 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return o, nil
}

// runner holds what every worker of a run shares; none of it changes
// while the run goes.
type runner struct {
	opts     TokenOptions
	client   *http.Client
	req      tokenRequest
	verifier *tokenVerifier // nil unless verifying
	workers  []exchanger    // one per worker
}

// newHTTPClient returns a client that keeps one connection per worker
// alive and never follows redirects (a redirect is a failed request here).
// A worker has at most one request in flight (a JWKS refetch comes after
// its token answer), so concurrency connections are enough; capping them
// stops the transport from dialing spares when requests race for a
// connection. It speaks HTTP/1.1 (a custom DialContext turns HTTP/2 off),
// so every worker really has a connection of its own.
func newHTTPClient(concurrency int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		MaxConnsPerHost:     concurrency,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Token runs a load test against opts.URL's token endpoint: a warm-up,
// then opts.Duration of closed- or open-loop load. It returns an error
// only when the run could not start; whether it went well is the result's
// Err.
func Token(ctx context.Context, opts TokenOptions) (TokenResult, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return TokenResult{}, err
	}
	req, err := newTokenRequest(opts)
	if err != nil {
		return TokenResult{}, err
	}
	r := &runner{opts: opts, client: newHTTPClient(opts.Concurrency, opts.Timeout), req: req}
	defer r.client.CloseIdleConnections()
	// One connection per worker, kept from the warm-up into the run.
	for range opts.Concurrency {
		r.workers = append(r.workers, r.newExchanger())
	}
	defer func() {
		for _, ex := range r.workers {
			ex.close()
		}
	}()
	if opts.Verify {
		r.verifier = newTokenVerifier(r.client, opts.URL)
		if err := r.verifier.fetch(ctx); err != nil {
			return TokenResult{}, err
		}
	}
	if opts.Warmup > 0 {
		r.run(ctx, opts.Warmup)
	}
	total, elapsed := r.run(ctx, opts.Duration)
	return r.result(total, elapsed), nil
}

// run puts load on the server for d and returns the merged tallies and
// the time from the first send to the last answer.
func (r *runner) run(ctx context.Context, d time.Duration) (*tally, time.Duration) {
	tallies := make([]*tally, r.opts.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	sched := newSchedule(start, d, r.opts.Rate)
	for i := range tallies {
		t := newTally()
		tallies[i] = t
		ex := r.workers[i]
		if sched == nil {
			wg.Go(func() { r.closedLoop(ctx, ex, start.Add(d), t) })
		} else {
			wg.Go(func() { r.openLoop(ctx, ex, sched, t) })
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := newTally()
	for _, t := range tallies {
		total.merge(t)
	}
	return total, elapsed
}

// closedLoop sends one request after another until end; each request's
// latency runs from its own send, after its assertion and proof are
// signed.
func (r *runner) closedLoop(ctx context.Context, ex exchanger, end time.Time, t *tally) {
	for ctx.Err() == nil {
		if err := ex.prepare(time.Now()); err != nil {
			t.transportError(err)
			continue
		}
		now := time.Now()
		if !now.Before(end) {
			return
		}
		r.send(ctx, ex, now, t)
	}
}

// newExchanger gives a worker its own connection: the lean wire client for
// http:// targets, net/http for https:// ones.
func (r *runner) newExchanger() exchanger {
	if w, err := newWireConn(r.req.url, r.req, r.opts.Timeout); err == nil {
		return w
	}
	h := &httpExchanger{r: r}
	if r.req.signers != nil {
		h.fresh = newFreshParts(r.req.signers)
	}
	return h
}

// openLoop takes the schedule's slots in turn, waits for each one's time
// and sends it; a slot whose time has passed is sent at once and its
// latency still runs from its intended time. The assertion and proof of a
// send are signed before the wait.
func (r *runner) openLoop(ctx context.Context, ex exchanger, s *schedule, t *tally) {
	for {
		intended, ok := s.take()
		if !ok {
			return
		}
		if err := ex.prepare(time.Now()); err != nil {
			t.transportError(err)
			continue
		}
		if wait := time.Until(intended); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
		}
		now := time.Now()
		if !now.Before(s.end) || ctx.Err() != nil {
			return // the rest of the backlog is Unsent
		}
		lag := now.Sub(intended)
		if lag > LateThreshold {
			t.behind++
		}
		t.maxLag = max(t.maxLag, lag)
		t.sent++
		r.send(ctx, ex, intended, t)
	}
}

// send makes one token request and tallies the outcome; origin is when
// the latency clock started. Requests cut off by ctx are not counted.
func (r *runner) send(ctx context.Context, ex exchanger, origin time.Time, t *tally) {
	status, body, err := ex.exchange(ctx)
	latency := time.Since(origin)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			t.transportError(err)
		}
	case status != http.StatusOK:
		t.answered(status, body)
	default:
		r.gotToken(ctx, body, latency, t)
	}
}

// gotToken tallies a 200 answer: a token if the body holds one.
func (r *runner) gotToken(ctx context.Context, body []byte, latency time.Duration, t *tally) {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		t.failures[failureKey{http.StatusOK, "no access_token in the body"}]++
		return
	}
	t.ok++
	t.lat.Record(latency)
	if r.verifier != nil {
		t.verifyResult(r.verifier.verify(ctx, tok.AccessToken))
	}
}

func (r *runner) result(t *tally, elapsed time.Duration) TokenResult {
	failures := t.failureList()
	var answered uint64
	for _, f := range failures {
		answered += f.Count
	}
	res := TokenResult{
		URL: r.req.url, Auth: r.opts.Auth, DPoP: r.opts.DPoP, Mode: "closed-loop", Concurrency: r.opts.Concurrency,
		Elapsed: elapsed, Requests: t.ok + answered + t.transportN, OK: t.ok,
		TokensPerSecond: float64(t.ok) / elapsed.Seconds(),
		Latency:         t.lat.Summary(), Failures: failures,
		TransportErrors: t.transportN, TransportKinds: t.transportList(),
	}
	if s := r.req.signers; s != nil && s.assertion != nil {
		res.AssertionAlg = s.assertion.s.alg
	}
	if r.opts.Rate > 0 {
		scheduled := newSchedule(time.Time{}, r.opts.Duration, r.opts.Rate).slots
		res.Mode = "open-loop"
		res.OpenLoop = &OpenLoop{
			Rate: r.opts.Rate, Scheduled: scheduled, Sent: t.sent, Behind: t.behind,
			Unsent: scheduled - min(t.sent, scheduled), MaxLag: t.maxLag,
		}
	}
	if r.verifier != nil {
		res.Verification = &Verification{
			Verified: t.verified, Failed: t.verifyFailed, FirstError: t.verifyErr,
			JWKSFetches: r.verifier.fetches.Load(),
		}
	}
	return res
}
