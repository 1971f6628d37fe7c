package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/verify"
)

// VerifyOptions configures Verify. Zero fields take the defaults.
type VerifyOptions struct {
	CPUOptions
	// Tokens is the number of distinct tokens verified in turn; default 256.
	Tokens int
}

// VerifyResult is what Verify measured. One operation is what a product
// API's middleware does per request: verify.Verifier.Verify on a token
// whose key is cached (parse, signature, claims).
type VerifyResult struct {
	CPURun
	Verifications uint64  `json:"verifications"`
	PerSecond     float64 `json:"verifications_per_second"`
	TokenBytes    int     `json:"token_bytes"`
	Latency       Summary `json:"latency"`
	// JWKSFetches counts the JWKS requests the verifier made: 1 when the
	// key stayed cached for the whole run.
	JWKSFetches int64 `json:"jwks_fetches"`
}

// MarshalJSON writes Elapsed in seconds.
func (r VerifyResult) MarshalJSON() ([]byte, error) {
	type plain VerifyResult
	return marshalWith(plain(r), "elapsed_s", r.Elapsed.Seconds())
}

func (o VerifyOptions) withDefaults() VerifyOptions {
	o.CPUOptions = o.CPUOptions.withDefaults()
	if o.Tokens <= 0 {
		o.Tokens = 256
	}
	return o
}

// benchAudience is the audience of the tokens Verify checks.
const benchAudience = "https://api.example.io"

// Verify measures package verify on this machine: an in-process issuer
// (loopback httptest serving RFC 8414 metadata and a JWKS) publishes a
// throwaway key of opts.Alg, tokens are signed with it as gatehouse signs
// them, and every worker verifies them with one shared Verifier until
// opts.Duration has passed or ctx is done.
func Verify(ctx context.Context, opts VerifyOptions) (VerifyResult, error) {
	opts = opts.withDefaults()
	key, err := newKey(opts.Alg)
	if err != nil {
		return VerifyResult{}, err
	}
	is := startVerifyIssuer(key)
	defer is.Close()
	v, err := verify.New(ctx, verify.Config{Issuer: is.URL, Audience: benchAudience})
	if err != nil {
		return VerifyResult{}, fmt.Errorf("starting the verifier: %w", err)
	}
	tokens, err := is.mint(opts.Tokens)
	if err != nil {
		return VerifyResult{}, err
	}

	all, run, err := onEveryCPU(ctx, opts.CPUOptions, key.Alg, func(ctx context.Context, i int, h *Histogram) error {
		return verifyLoop(ctx, v, tokens, i, h)
	})
	if err != nil {
		return VerifyResult{}, err
	}
	return VerifyResult{
		CPURun: run, Verifications: all.Count(),
		PerSecond:  float64(all.Count()) / run.Elapsed.Seconds(),
		TokenBytes: len(tokens[0]), Latency: all.Summary(), JWKSFetches: is.jwksFetches.Load(),
	}, nil
}

// verifyLoop verifies tokens in turn, from offset, until ctx is done. A
// refused token ends the run: every token is valid.
func verifyLoop(ctx context.Context, v *verify.Verifier, tokens []string, offset int, h *Histogram) error {
	bg := context.Background() // the run's deadline must not fail a verification
	for i := offset; ; i++ {
		if i%64 == 0 && ctx.Err() != nil {
			return nil
		}
		t0 := time.Now()
		if _, err := v.Verify(bg, tokens[i%len(tokens)]); err != nil {
			return fmt.Errorf("verifying a valid token: %w", err)
		}
		h.Record(time.Since(t0))
	}
}

// verifyIssuer is the in-process issuer of Verify.
type verifyIssuer struct {
	*httptest.Server
	key         *keys.Key
	jwksFetches atomic.Int64
}

func startVerifyIssuer(key *keys.Key) *verifyIssuer {
	is := &verifyIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": is.URL, "jwks_uri": is.URL + "/.well-known/jwks.json"})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		is.jwksFetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.JWK()}})
	})
	is.Server = httptest.NewServer(mux)
	return is
}

// mint signs n tokens shaped like gatehouse's for benchAudience, with a
// lifetime that outlasts any run.
func (is *verifyIssuer) mint(n int) ([]string, error) {
	claims := sampleClaims()
	claims.Iss, claims.Aud = is.URL, benchAudience
	tokens := make([]string, n)
	for i := range tokens {
		payload, err := claims.nextFor(time.Now(), 24*time.Hour)
		if err != nil {
			return nil, err
		}
		if tokens[i], err = is.key.Sign(payload); err != nil {
			return nil, fmt.Errorf("signing with %s: %w", is.key.Alg, err)
		}
	}
	return tokens, nil
}

// nextFor is next with a lifetime of ttl instead of 15 minutes.
func (c *accessClaims) nextFor(now time.Time, ttl time.Duration) ([]byte, error) {
	if _, err := c.next(now); err != nil {
		return nil, err
	}
	c.Exp = c.Iat + int64(ttl/time.Second)
	return json.Marshal(c)
}
