package token

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/assertion"
	"github.com/gatehouse/gatehouse/internal/jwks"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/replay"
	"github.com/gatehouse/gatehouse/internal/store"
)

// MaxAssertionLifetime bounds exp - iat of a client assertion (DESIGN §8):
// it bounds how long a jti must be remembered.
const MaxAssertionLifetime = 5 * time.Minute

// assertionClientID is the client a private_key_jwt request names: its
// client_id, or else the assertion's sub (RFC 7523 §3: iss = sub = the
// client id). The assertion is not trusted yet; checkAssertion verifies it.
func assertionClientID(req *oauth.TokenRequest) string {
	if req.ClientID != "" {
		return req.ClientID
	}
	_, sub, err := assertion.Peek(req.ClientAssertion)
	if err != nil {
		return ""
	}
	return sub
}

// checkAssertion verifies a private_key_jwt client assertion: the right
// assertion type, a signature by one of the client's keys, iss = sub =
// the client, gatehouse in aud, a short lifetime, and a jti never seen
// before on any node.
func checkAssertion(ctx context.Context, i *Issuer, req *oauth.TokenRequest, client *store.Client) (store.Confirmation, error) {
	if req.ClientAssertionType != oauth.ClientAssertionJWT {
		return store.Confirmation{}, fmt.Errorf("client_assertion_type %q", truncate(req.ClientAssertionType))
	}
	if client == nil {
		return store.Confirmation{}, errors.New("unknown client")
	}
	if client.Auth.Method != store.AuthPrivateKeyJWT {
		return store.Confirmation{}, errWrongMethod
	}
	keys, err := i.clientKeys.finder(client)
	if err != nil {
		return store.Confirmation{}, err
	}
	c, err := assertion.Verify(ctx, req.ClientAssertion, keys, assertion.Expect{
		Issuer: client.ID, Subject: client.ID, Audiences: i.audiencesFor(req),
		MaxLifetime: i.cfg.MaxAssertionLifetime, RequireJTI: true, Now: i.now,
	})
	if err != nil {
		return store.Confirmation{}, err
	}
	if err := i.used.Use(ctx, replay.ID{Key: "client-assertion:" + client.ID + ":" + c.JTI, ExpiresAt: c.AcceptedUntil}); err != nil {
		return store.Confirmation{}, fmt.Errorf("jti %q: %w", truncate(c.JTI), err)
	}
	return store.Confirmation{}, nil
}

// audiencesFor are the values an assertion's aud may hold: gatehouse's
// issuer identifier, its token endpoint, or the endpoint the request came
// to (introspection, revocation, a per-service endpoint).
func (i *Issuer) audiencesFor(req *oauth.TokenRequest) []string {
	auds := []string{i.cfg.IssuerURL, i.base, i.base + "/oauth/token"}
	if req.EndpointURL != "" {
		auds = append(auds, req.EndpointURL)
	}
	return auds
}

// keyCache holds the parsed keys of clients without secrets: a client's
// inline JWKS parsed once (keyed by the document, so an update that
// changes it is seen at once), and one cached Remote per jwks_uri,
// fetched outside the request path once warm.
type keyCache struct {
	opts jwks.RemoteOptions

	mu      sync.Mutex
	parsed  map[string]*jwks.Set
	remotes map[string]*jwks.Remote
}

// maxCachedKeySets bounds both maps; past it, they start over.
const maxCachedKeySets = 100_000

func newKeyCache(opts jwks.RemoteOptions) *keyCache {
	return &keyCache{opts: opts, parsed: map[string]*jwks.Set{}, remotes: map[string]*jwks.Remote{}}
}

// static returns the client's registered JWKS, parsed.
func (k *keyCache) static(c *store.Client) (*jwks.Set, error) {
	if c.Auth.JWKS == "" {
		return nil, errors.New("the client has no registered keys")
	}
	k.mu.Lock()
	set, ok := k.parsed[c.Auth.JWKS]
	k.mu.Unlock()
	if ok {
		return set, nil
	}
	set, err := jwks.Parse([]byte(c.Auth.JWKS))
	if err != nil {
		return nil, fmt.Errorf("the client's registered keys: %w", err)
	}
	k.mu.Lock()
	if len(k.parsed) >= maxCachedKeySets {
		k.parsed = map[string]*jwks.Set{}
	}
	k.parsed[c.Auth.JWKS] = set
	k.mu.Unlock()
	return set, nil
}

// finder returns where the client's assertion keys come from.
func (k *keyCache) finder(c *store.Client) (assertion.KeyFinder, error) {
	if c.Auth.JWKSURI == "" {
		return k.static(c)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if r, ok := k.remotes[c.Auth.JWKSURI]; ok {
		return r, nil
	}
	r, err := jwks.NewRemote(c.Auth.JWKSURI, k.opts)
	if err != nil {
		return nil, fmt.Errorf("the client's jwks_uri: %w", err)
	}
	if len(k.remotes) >= maxCachedKeySets {
		k.remotes = map[string]*jwks.Remote{}
	}
	k.remotes[c.Auth.JWKSURI] = r
	return r, nil
}
