package admin

import (
	"encoding/json"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Key sources of a trust, as TrustView.KeySource names them.
const (
	KeySourceDiscovery = "discovery"
	KeySourceJWKSURI   = "jwks_uri"
	KeySourceJWKS      = "jwks"
)

// TrustView is a trust on the wire. JWKS is a JWK Set object (public
// keys only); durations are text like the other routes' ("1h0m0s").
type TrustView struct {
	Tenant    string          `json:"tenant"`
	Name      string          `json:"name"`
	Issuer    string          `json:"issuer"`
	KeySource string          `json:"key_source"`
	JWKSURI   string          `json:"jwks_uri,omitempty"`
	JWKS      json.RawMessage `json:"jwks,omitempty"`
	Audiences []string        `json:"audiences"`
	MaxAge    *Duration       `json:"max_age,omitempty"`
	SingleUse bool            `json:"single_use"`
	Rules     []RuleView      `json:"rules"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// RuleView is a trust's rule on the wire.
type RuleView struct {
	Name     string    `json:"name"`
	Client   string    `json:"client"`
	Match    string    `json:"match"`
	Scopes   []string  `json:"scopes,omitempty"`
	TokenTTL *Duration `json:"token_ttl,omitempty"`
}

// KeySourceOf names where a trust's keys come from.
func KeySourceOf(t store.Trust) string {
	switch {
	case t.JWKS != "":
		return KeySourceJWKS
	case t.JWKSURI != "":
		return KeySourceJWKSURI
	}
	return KeySourceDiscovery
}

func trustView(t store.Trust) TrustView {
	v := TrustView{Tenant: t.Tenant, Name: t.Name, Issuer: t.Issuer, KeySource: KeySourceOf(t), JWKSURI: t.JWKSURI,
		Audiences: t.Audiences, SingleUse: t.SingleUse, Rules: make([]RuleView, len(t.Rules)), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	if t.JWKS != "" && json.Valid([]byte(t.JWKS)) {
		v.JWKS = json.RawMessage(t.JWKS)
	}
	if v.Audiences == nil {
		v.Audiences = []string{}
	}
	if t.MaxAge > 0 {
		d := Duration(t.MaxAge)
		v.MaxAge = &d
	}
	for i, r := range t.Rules {
		v.Rules[i] = ruleView(r)
	}
	return v
}

func ruleView(r store.TrustRule) RuleView {
	v := RuleView{Name: r.Name, Client: r.Client, Match: r.Match, Scopes: r.Scopes}
	if r.TokenTTL > 0 {
		d := Duration(r.TokenTTL)
		v.TokenTTL = &d
	}
	return v
}

// TrustInput creates (every field; Name required) or patches (the
// fields present) a trust. JWKS is a JWK Set object; in a patch, null or
// "" for jwks or jwks_uri removes that key source.
type TrustInput struct {
	Name      string          `json:"name,omitempty"`
	Issuer    *string         `json:"issuer,omitempty"`
	JWKS      json.RawMessage `json:"jwks,omitempty"`
	JWKSURI   *string         `json:"jwks_uri,omitempty"`
	Audiences *[]string       `json:"audiences,omitempty"`
	MaxAge    *Duration       `json:"max_age,omitempty"`
	SingleUse *bool           `json:"single_use,omitempty"`
	Rules     []RuleInput     `json:"rules,omitempty"`
}

// RuleInput is a new rule on the wire.
type RuleInput struct {
	Name     string    `json:"name"`
	Client   string    `json:"client"`
	Match    string    `json:"match"`
	Scopes   []string  `json:"scopes,omitempty"`
	TokenTTL *Duration `json:"token_ttl,omitempty"`
}

// Rule is the rule the input describes.
func (in RuleInput) Rule() store.TrustRule {
	r := store.TrustRule{Name: in.Name, Client: in.Client, Match: in.Match, Scopes: in.Scopes}
	setIf(&r.TokenTTL, ptrDuration(in.TokenTTL))
	return r
}

// Trust is the trust the input describes, in tenant.
func (in TrustInput) Trust(tenant string) store.Trust {
	t := store.Trust{Tenant: tenant, Name: in.Name}
	setIf(&t.Issuer, in.Issuer)
	setIf(&t.JWKS, rawJWKS(in.JWKS))
	setIf(&t.JWKSURI, in.JWKSURI)
	setIf(&t.Audiences, in.Audiences)
	setIf(&t.MaxAge, ptrDuration(in.MaxAge))
	setIf(&t.SingleUse, in.SingleUse)
	for _, r := range in.Rules {
		t.Rules = append(t.Rules, r.Rule())
	}
	return t
}

// Patch is the change the input describes.
func (in TrustInput) Patch() TrustPatch {
	return TrustPatch{Issuer: in.Issuer, JWKS: rawJWKS(in.JWKS), JWKSURI: in.JWKSURI, Audiences: in.Audiences,
		MaxAge: ptrDuration(in.MaxAge), SingleUse: in.SingleUse}
}

// rawJWKS is a JWKS given on the wire as text: nil when absent, "" for
// null or "".
func rawJWKS(raw json.RawMessage) *string {
	return AuthInput{JWKS: raw}.jwks()
}
