package token

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/dpop"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/replay"
	"github.com/gatehouse/gatehouse/internal/store"
)

// DPoPConfig tunes DPoP proofs (RFC 9449) at the token endpoint.
type DPoPConfig struct {
	// Window is how old a proof's iat may be; zero means dpop.DefaultWindow.
	Window time.Duration
	// Nonces, when set, makes every proof carry a server nonce (RFC 9449
	// §8): a request without a valid one is answered use_dpop_nonce with
	// a fresh nonce. Every node sharing the key accepts every node's.
	Nonces *dpop.NonceIssuer
}

func (c DPoPConfig) withDefaults() DPoPConfig {
	if c.Window <= 0 {
		c.Window = dpop.DefaultWindow
	}
	return c
}

// checkDPoP verifies the request's DPoP proof, if any; nil means none.
// It runs before the client authenticates: a proof without the server's
// nonce is answered use_dpop_nonce, and the retry RFC 9449 §8 asks for
// carries the same credentials, so they must not have been spent (a
// client assertion's jti is single-use).
func (i *Issuer) checkDPoP(req oauth.TokenRequest) (*dpop.Proof, error) {
	if req.DPoP == "" {
		return nil, nil
	}
	want := dpop.Check{Method: http.MethodPost, URL: req.EndpointURL, Now: i.now(), Window: i.cfg.DPoP.Window}
	if n := i.cfg.DPoP.Nonces; n != nil {
		want.Nonce = n.Valid
	}
	p, err := dpop.Verify(req.DPoP, want)
	switch {
	case errors.Is(err, dpop.ErrUseNonce):
		return nil, oauth.ErrUseDPoPNonce(i.cfg.DPoP.Nonces.Nonce())
	case err != nil:
		return nil, oauth.ErrInvalidDPoPProof("The DPoP proof is not valid: "+dpop.Description(err)+".", err)
	}
	return p, nil
}

// bindDPoP binds the token to the key of p, the request's verified proof
// (nil: none), making the proof single-use: cnf.jkt, token_type DPoP. A
// client registered with require_dpop must send one. A
// certificate-bound token keeps its certificate binding too.
func (i *Issuer) bindDPoP(ctx context.Context, p *dpop.Proof, client *store.Client, g *Grant) error {
	if p == nil {
		if client.Auth.RequireDPoP {
			return oauth.ErrInvalidDPoPProof("This client must send a DPoP proof.", nil)
		}
		return nil
	}
	if err := i.used.Use(ctx, replay.ID{Key: "dpop:" + p.JKT + ":" + p.JTI, ExpiresAt: p.ExpiresAt}); err != nil {
		return oauth.ErrInvalidDPoPProof("The DPoP proof was used before.", err)
	}
	g.Confirmation.JKT = p.JKT
	return nil
}
