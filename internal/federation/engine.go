package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/assertion"
	"github.com/gatehouse/gatehouse/internal/jwks"
	"github.com/gatehouse/gatehouse/internal/replay"
)

// DefaultKeyWait bounds how long a request waits for a trust's keys when
// none are cached yet (or a new kid sends the cache to its issuer): past
// it the token is refused, and the fetch goes on for the next request.
const DefaultKeyWait = 3 * time.Second

// Algorithms are the signature algorithms an outside token may use:
// asymmetric ones only, never "none" or HMAC.
var Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Trusts finds the trusts of an issuer (the catalog).
type Trusts interface {
	TrustsFor(iss string) []*Trust
}

// Options configure an Engine.
type Options struct {
	// Audience is what an outside token's aud must hold when its trust
	// names no audiences: gatehouse's issuer URL. Required.
	Audience string
	// Keys tunes how jwks_uri documents and discovery are fetched.
	Keys jwks.RemoteOptions
	// KeyWait bounds a request's wait for keys not yet cached; zero
	// means DefaultKeyWait.
	KeyWait time.Duration
	// Used makes the jtis of single-use trusts single-use across nodes.
	Used *replay.Cache
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Engine decides which gatehouse client an outside token becomes. It is
// safe for concurrent use.
type Engine struct {
	trusts  Trusts
	opts    Options
	sources *sources
}

// NewEngine returns an engine over trusts.
func NewEngine(trusts Trusts, opts Options) (*Engine, error) {
	if opts.Audience == "" {
		return nil, errors.New("federation: Options.Audience is required")
	}
	if opts.KeyWait <= 0 {
		opts.KeyWait = DefaultKeyWait
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Keys.Now == nil {
		opts.Keys.Now = opts.Now
	}
	return &Engine{trusts: trusts, opts: opts, sources: &sources{remote: opts.Keys, byID: map[string]assertion.KeyFinder{}}}, nil
}

// Decision is an accepted outside token: the trust and rule that took it,
// the client it becomes, and its verified claims.
type Decision struct {
	Trust  *Trust
	Rule   Rule
	Claims *assertion.Claims
}

// Exchange checks raw, an outside token, against every trust of its
// issuer and picks the one rule that accepts it. clientID, when the
// request names one, leaves only that client's rules in play; without
// it exactly one rule may match. A refusal is a *Refusal saying, per
// trust and rule, why.
func (e *Engine) Exchange(ctx context.Context, raw, clientID string) (*Decision, error) {
	iss, sub, err := assertion.Peek(raw)
	if err != nil {
		return nil, &Refusal{Reason: "the token is malformed: " + err.Error()}
	}
	ref := &Refusal{Issuer: iss, Subject: sub}
	trusts := e.trusts.TrustsFor(iss)
	if len(trusts) == 0 {
		ref.Reason = "no trust accepts this issuer"
		return nil, ref
	}
	var matches []Decision
	for _, t := range trusts {
		v, claims := e.evaluate(ctx, t, raw, clientID)
		ref.Trusts = append(ref.Trusts, v)
		for i, r := range v.Rules {
			if r.Result == ResultMatched {
				matches = append(matches, Decision{Trust: t, Rule: t.Rules[i], Claims: claims})
			}
		}
	}
	switch {
	case len(matches) == 0 && ref.failedEveryTrust():
		ref.Reason = "the token failed the checks of every trust of its issuer"
		return nil, ref
	case len(matches) == 0:
		ref.Reason = "no rule matched"
		return nil, ref
	case len(matches) > 1 && clientID == "":
		ref.Reason = fmt.Sprintf("%d rules matched and the request names no client_id", len(matches))
		ref.Ambiguous = true
		return nil, ref
	}
	d := matches[0]
	if d.Trust.SingleUse {
		id := replay.ID{Key: "federation:" + d.Trust.Key() + ":" + d.Claims.JTI, ExpiresAt: d.Claims.AcceptedUntil}
		if err := e.opts.Used.Use(ctx, id); err != nil {
			ref.Reason = fmt.Sprintf("jti %q of a single-use trust: %v", truncate(d.Claims.JTI), err)
			return nil, ref
		}
	}
	return &d, nil
}

// evaluate verifies raw for t and runs t's rules over its claims.
func (e *Engine) evaluate(ctx context.Context, t *Trust, raw, clientID string) (TrustVerdict, *assertion.Claims) {
	v := TrustVerdict{Trust: t.Key()}
	claims, err := e.verify(ctx, t, raw)
	v.Checks = checks(t, err)
	if err != nil {
		v.Error = err.Error()
		v.Rules = ruleVerdicts(t, nil, clientID, "the token failed the trust's checks")
		return v, nil
	}
	v.Rules = ruleVerdicts(t, claims.Raw, clientID, "")
	return v, claims
}

// verify checks raw's signature and registered claims for t, waiting at
// most KeyWait for keys.
func (e *Engine) verify(ctx context.Context, t *Trust, raw string) (*assertion.Claims, error) {
	keys, err := e.sources.finder(t)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", assertion.ErrUnknownKey, err)
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.KeyWait)
	defer cancel()
	auds := t.Audiences
	if len(auds) == 0 {
		auds = []string{e.opts.Audience}
	}
	return assertion.Verify(ctx, raw, keys, assertion.Expect{
		Issuer: t.Issuer, Audiences: auds, Algs: Algorithms, MaxAge: t.MaxAge, RequireJTI: t.SingleUse, Now: e.opts.Now,
	})
}

// ruleVerdicts runs t's rules over claims (nil: not evaluated, for why).
func ruleVerdicts(t *Trust, claims map[string]any, clientID, why string) []RuleVerdict {
	out := make([]RuleVerdict, len(t.Rules))
	for i, r := range t.Rules {
		rv := RuleVerdict{Rule: r.Name, Client: r.Client}
		switch {
		case clientID != "" && r.Client != clientID:
			rv.Result, rv.Detail = ResultOtherClient, "the request names client "+truncate(clientID)
		case r.Err != nil:
			rv.Result, rv.Detail = ResultError, "the expression does not compile: "+r.Err.Error()
		case claims == nil:
			rv.Result, rv.Detail = ResultNotEvaluated, why
		default:
			ok, err := r.Match.Eval(claims)
			switch {
			case err != nil:
				rv.Result, rv.Detail = ResultError, err.Error()
			case ok:
				rv.Result = ResultMatched
			default:
				rv.Result, rv.Detail = ResultNoMatch, "the expression is false for these claims"
			}
		}
		out[i] = rv
	}
	return out
}

func truncate(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

// Refusal is why an outside token was refused, per trust and rule. It is
// for the audit log, the debug log and `trust test`; the client gets a
// generic invalid_grant.
type Refusal struct {
	// Issuer and Subject are the token's iss and sub as written (not
	// verified: the token may be forged).
	Issuer  string         `json:"iss,omitempty"`
	Subject string         `json:"sub,omitempty"`
	Reason  string         `json:"reason"`
	Trusts  []TrustVerdict `json:"trusts,omitempty"`
	// Ambiguous: several rules matched and the request named no client.
	Ambiguous bool `json:"ambiguous,omitempty"`
}

// failedEveryTrust: no trust's checks passed, so no rule ran. Saying
// "no rule matched" then would send an operator to the rules while the
// token's aud, exp or key is what failed.
func (r *Refusal) failedEveryTrust() bool {
	for _, t := range r.Trusts {
		if t.Error == "" {
			return false
		}
	}
	return len(r.Trusts) > 0
}

func (r *Refusal) Error() string {
	var b strings.Builder
	b.WriteString("federation: " + r.Reason)
	for _, t := range r.Trusts {
		fmt.Fprintf(&b, "; trust %s", t.Trust)
		if t.Error != "" {
			fmt.Fprintf(&b, ": %s", t.Error)
			continue
		}
		for _, rv := range t.Rules {
			fmt.Fprintf(&b, "; rule %s: %s", rv.Rule, rv.Result)
			if rv.Detail != "" {
				fmt.Fprintf(&b, " (%s)", rv.Detail)
			}
		}
	}
	return b.String()
}
