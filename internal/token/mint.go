package token

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Claims are the JWT access token claims: RFC 9068 plus the hosted
// vendor's, so APIs written against it keep working.
type Claims struct {
	Issuer      string `json:"iss"`
	Subject     string `json:"sub"`
	Audience    string `json:"aud"`
	IssuedAt    int64  `json:"iat"`
	Expiry      int64  `json:"exp"`
	JTI         string `json:"jti"`
	ClientID    string `json:"client_id"`
	AZP         string `json:"azp"`
	Scope       string `json:"scope"`
	GrantType   string `json:"gty"`
	Tenant      string `json:"tenant,omitempty"`
	Environment string `json:"environment,omitempty"`
	Service     string `json:"service,omitempty"`
	APIKey      string `json:"api_key,omitempty"`
	// Cnf binds a sender-constrained token to its holder (RFC 9449 §6,
	// RFC 8705 §3.1).
	Cnf *store.Confirmation `json:"cnf,omitempty"`
	// Ext names the outside token of a federated grant (DESIGN §9).
	Ext *External `json:"ext,omitempty"`
	// Act is the RFC 8693 §4.1 actor chain of a delegated token.
	Act map[string]any `json:"act,omitempty"`

	// ownSubject makes sub the client's own, ClientID + "@clients",
	// written without building that string.
	ownSubject bool
}

// OpaqueLength is the length of an opaque token, as in the gateway document.
const OpaqueLength = 32

// Mint issues the token for a grant (or, inside the API's reuse window,
// hands back the one the client already holds) and records in g what was
// issued.
func (i *Issuer) Mint(ctx context.Context, g *Grant) (Response, error) {
	now := i.now()
	if resp, ok := i.reuse.get(g, now); ok && !i.revoked.Revoked(g.JTI) {
		return resp, nil
	}
	g.Reused = false // a held token that was revoked is not handed back: this one is new
	g.IssuedAt = now.Truncate(time.Second)
	g.ExpiresAt = g.IssuedAt.Add(g.TTL)
	g.JTI = newJTI()
	g.Scope = strings.Join(g.Scopes, " ")
	var access string
	var err error
	switch g.API.TokenFormat {
	case store.FormatOpaque:
		access, err = i.mintOpaque(ctx, g)
	default:
		access, err = i.mintJWT(g)
	}
	if err != nil {
		return Response{}, err
	}
	resp := Response{AccessToken: access, Scope: g.Scope, ExpiresIn: int64(g.ExpiresAt.Sub(g.IssuedAt) / time.Second),
		TokenType: tokenType(g.Confirmation), IssuedTokenType: g.IssuedTokenType}
	i.reuse.put(g, resp)
	return resp, nil
}

func (i *Issuer) mintJWT(g *Grant) (string, error) {
	key := i.keys.Current(g.API.SigningAlg)
	if key == nil {
		return "", oauth.ErrTemporarilyUnavailable(fmt.Errorf("no current %s signing key", g.API.SigningAlg))
	}
	claims := Claims{
		Issuer:      i.cfg.IssuerURL,
		Subject:     g.Subject,
		ownSubject:  g.Subject == "",
		Audience:    g.Audience,
		IssuedAt:    g.IssuedAt.Unix(),
		Expiry:      g.ExpiresAt.Unix(),
		JTI:         g.JTI,
		ClientID:    g.Client.ID,
		AZP:         g.Client.ID,
		Scope:       g.Scope,
		GrantType:   g.Type,
		Tenant:      g.Client.Tenant,
		Environment: g.Client.Environment,
		Service:     g.Service,
		APIKey:      g.APIKey,
		Cnf:         cnfClaim(&g.Confirmation),
		Ext:         g.External,
		Act:         g.Act,
	}
	bp := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(bp)
	payload, err := appendClaims((*bp)[:0], &claims)
	*bp = payload[:0]
	if err != nil {
		return "", oauth.ErrServerError(err)
	}
	jwt, err := key.Sign(payload)
	if err != nil {
		return "", oauth.ErrServerError(err)
	}
	return jwt, nil
}

// mintOpaque makes a random handle and stores its hash with what it grants.
func (i *Issuer) mintOpaque(ctx context.Context, g *Grant) (string, error) {
	tok := secret.RandomAlnum(OpaqueLength)
	err := i.tokens.CreateOpaqueToken(ctx, store.OpaqueToken{
		Hash: HashOpaque(tok), ClientID: g.Client.ID, Audience: g.Audience, Scopes: g.Scopes,
		Tenant: g.Client.Tenant, Environment: g.Client.Environment, Service: g.Service,
		JTI: g.JTI, IssuedAt: g.IssuedAt, ExpiresAt: g.ExpiresAt, Confirmation: g.Confirmation,
	})
	if err != nil {
		return "", oauth.ErrTemporarilyUnavailable(err)
	}
	return tok, nil
}

// tokenType is the token_type of the answer: DPoP for a DPoP-bound token
// (RFC 9449 §5), Bearer otherwise (a certificate-bound token is still
// sent as Bearer, RFC 8705 §3).
func tokenType(cnf store.Confirmation) string {
	if cnf.JKT != "" {
		return "DPoP"
	}
	return "Bearer"
}

// cnfClaim is the cnf claim of a token bound by cnf, which it points to
// (the claims only read it), or nil.
func cnfClaim(cnf *store.Confirmation) *store.Confirmation {
	if !cnf.Bound() {
		return nil
	}
	return cnf
}

// HashOpaque is how opaque tokens are keyed in the store.
func HashOpaque(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// newJTI returns a unique token id: 128 random bits in hex.
func newJTI() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("token: crypto/rand failed: " + err.Error())
	}
	var h [32]byte
	return string(hex.AppendEncode(h[:0], b[:]))
}

// reuseCache remembers the last token per client, audience, scopes and
// service, for APIs with a reuse window.
type reuseCache struct {
	mu      sync.Mutex
	entries map[reuseKey]reuseEntry
}

type reuseKey struct {
	client, audience, scope, service string
	cnf                              store.Confirmation // a bound token is only ever reused for its holder
}

type reuseEntry struct {
	resp      Response
	grant     Grant
	issued    time.Time
	expires   time.Time
	secretSet int // len of the client's secrets when issued: a rotation invalidates
}

// maxReuseEntries bounds the cache; past it, it starts over.
const maxReuseEntries = 200_000

func keyOf(g *Grant) reuseKey {
	return reuseKey{g.Client.ID, g.Audience, strings.Join(g.Scopes, " "), g.Service, g.Confirmation}
}

// reusable reports whether g's token may be handed back again: not one
// that names an outside subject or an actor, whose holder may differ.
func reusable(g *Grant) bool {
	return g.API.ReuseWindow > 0 && g.External == nil && g.Act == nil && g.Subject == ""
}

func (c *reuseCache) get(g *Grant, now time.Time) (Response, bool) {
	if !reusable(g) {
		return Response{}, false
	}
	c.mu.Lock()
	e, ok := c.entries[keyOf(g)]
	c.mu.Unlock()
	if !ok || now.Sub(e.issued) >= g.API.ReuseWindow || !now.Before(e.expires) || e.grant.Client != g.Client {
		return Response{}, false
	}
	resp := e.resp
	resp.ExpiresIn = int64(e.expires.Sub(now) / time.Second)
	g.JTI, g.Scope, g.IssuedAt, g.ExpiresAt, g.Reused = e.grant.JTI, e.resp.Scope, e.issued, e.expires, true
	return resp, true
}

func (c *reuseCache) put(g *Grant, resp Response) {
	if !reusable(g) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxReuseEntries {
		c.entries = map[reuseKey]reuseEntry{}
	}
	c.entries[keyOf(g)] = reuseEntry{resp: resp, grant: *g, issued: g.IssuedAt, expires: g.ExpiresAt}
}
