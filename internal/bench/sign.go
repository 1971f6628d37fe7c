package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/store"
)

// SignOptions configures Sign: it needs no more than any measurement of
// the CPUs.
type SignOptions = CPUOptions

// SignResult is what Sign measured. One operation is what the token
// endpoint does per JWT: build the claims (with a fresh jti) and sign them.
type SignResult struct {
	CPURun
	Signatures uint64  `json:"signatures"`
	PerSecond  float64 `json:"signatures_per_second"`
	TokenBytes int     `json:"token_bytes"`
	Latency    Summary `json:"latency"`
}

// MarshalJSON writes Elapsed in seconds.
func (r SignResult) MarshalJSON() ([]byte, error) {
	type plain SignResult
	return marshalWith(plain(r), "elapsed_s", r.Elapsed.Seconds())
}

// Sign signs access tokens with a throwaway key of opts.Alg from all
// workers at once, sharing the key as the server does, until opts.Duration
// has passed or ctx is done.
func Sign(ctx context.Context, opts SignOptions) (SignResult, error) {
	opts = opts.withDefaults()
	key, err := newKey(opts.Alg)
	if err != nil {
		return SignResult{}, err
	}
	sizes := make([]int, opts.Workers)
	all, run, err := onEveryCPU(ctx, opts, key.Alg, func(ctx context.Context, i int, h *Histogram) (err error) {
		sizes[i], err = signLoop(ctx.Done(), key, h)
		return err
	})
	if err != nil {
		return SignResult{}, err
	}
	return SignResult{
		CPURun: run, Signatures: all.Count(),
		PerSecond:  float64(all.Count()) / run.Elapsed.Seconds(),
		TokenBytes: sizes[0], Latency: all.Summary(),
	}, nil
}

// signLoop signs until done is closed, recording each operation's time. It
// returns the size of the last token.
func signLoop(done <-chan struct{}, key *keys.Key, h *Histogram) (int, error) {
	claims := sampleClaims()
	size := 0
	for {
		select {
		case <-done:
			return size, nil
		default:
		}
		t0 := time.Now()
		payload, err := claims.next(t0)
		if err != nil {
			return size, err
		}
		tok, err := key.Sign(payload)
		if err != nil {
			return size, fmt.Errorf("signing with %s: %w", key.Alg, err)
		}
		h.Record(time.Since(t0))
		size = len(tok)
	}
}

// accessClaims are the claims of a gatehouse JWT access token (RFC 9068
// plus the hosted vendor's client_id, azp, gty), the payload Sign signs.
type accessClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	Iat      int64  `json:"iat"`
	Exp      int64  `json:"exp"`
	Jti      string `json:"jti"`
	ClientID string `json:"client_id"`
	Azp      string `json:"azp"`
	Scope    string `json:"scope"`
	Gty      string `json:"gty"`
	Tenant   string `json:"tenant"`
}

// sampleClaims returns claims shaped like a typical token: a generated
// client id, a product API audience, a handful of scopes, a 15-minute life.
func sampleClaims() *accessClaims {
	const clientID = "Vq3Xk9dLr2mT7bWc4NfH8sYp"
	return &accessClaims{
		Iss:      "https://auth.example.io/",
		Sub:      clientID + "@clients",
		Aud:      "https://api.example.io",
		ClientID: clientID,
		Azp:      clientID,
		Scope:    "read:deliveries write:deliveries read:properties read:reports",
		Gty:      "client-credentials",
		Tenant:   "acme",
	}
}

// next stamps the claims with now and a fresh jti and encodes them.
func (c *accessClaims) next(now time.Time) ([]byte, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	c.Jti = base64.RawURLEncoding.EncodeToString(id[:])
	c.Iat = now.Unix()
	c.Exp = c.Iat + 900
	return json.Marshal(c)
}

// newKey makes and opens a signing key for alg under a throwaway KEK, going
// through the same generate, seal and open steps as the server.
func newKey(alg string) (*keys.Key, error) {
	var raw [keys.KEKSize]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	kek, err := keys.ParseKEK(base64.StdEncoding.EncodeToString(raw[:]), "bench")
	if err != nil {
		return nil, err
	}
	sk, err := keys.Generate(alg, store.KeyCurrent, time.Now(), kek)
	if err != nil {
		return nil, err
	}
	return keys.Open(sk, kek)
}
