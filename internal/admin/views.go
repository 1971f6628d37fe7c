package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Duration is a lifetime on the admin API's wire: written as Go duration
// text ("15m0s") and read from that text or from a number of seconds.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*d = Duration(time.Duration(n) * time.Second)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is text like \"15m\" or a number of seconds")
	}
	v, err := ParseDuration(s)
	*d = Duration(v)
	return err
}

// ParseDuration reads "15m", "24h" and also "7d" (days, which Go lacks).
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("duration %q is not valid", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q is not valid (examples: 15m, 24h, 7d)", s)
	}
	return v, nil
}

func ptrDuration(d *Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := time.Duration(*d)
	return &v
}

// APIView is an API on the wire.
type APIView struct {
	Audience    string        `json:"audience"`
	Name        string        `json:"name"`
	Scopes      []store.Scope `json:"scopes"`
	TokenTTL    Duration      `json:"token_ttl"`
	TokenFormat string        `json:"token_format"`
	SigningAlg  string        `json:"signing_alg"`
	Service     string        `json:"service,omitempty"`
	ReuseWindow *Duration     `json:"reuse_window,omitempty"`
	// AcceptExchangeFrom lists the audiences whose tokens may be
	// exchanged for this API's (RFC 8693 delegation).
	AcceptExchangeFrom []string  `json:"accept_exchange_from,omitempty"`
	BuiltIn            bool      `json:"built_in,omitempty"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

func apiView(a store.API) APIView {
	if a.Scopes == nil {
		a.Scopes = []store.Scope{}
	}
	v := APIView{Audience: a.Audience, Name: a.Name, Scopes: a.Scopes, TokenTTL: Duration(a.TokenTTL), TokenFormat: a.TokenFormat,
		SigningAlg: a.SigningAlg, Service: a.Service, AcceptExchangeFrom: a.AcceptExchangeFrom, BuiltIn: a.BuiltIn, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if a.ReuseWindow > 0 {
		d := Duration(a.ReuseWindow)
		v.ReuseWindow = &d
	}
	return v
}

// APIInput creates (all fields) or patches (non-nil fields) an API.
type APIInput struct {
	Audience    string         `json:"audience"`
	Name        *string        `json:"name"`
	Scopes      *[]store.Scope `json:"scopes"`
	TokenTTL    *Duration      `json:"token_ttl"`
	TokenFormat *string        `json:"token_format"`
	SigningAlg  *string        `json:"signing_alg"`
	Service     *string        `json:"service"`
	ReuseWindow *Duration      `json:"reuse_window"`
	// AcceptExchangeFrom replaces the list when present; [] clears it.
	AcceptExchangeFrom *[]string `json:"accept_exchange_from"`
}

func (in APIInput) api() store.API {
	a := store.API{Audience: in.Audience}
	setIf(&a.Name, in.Name)
	setIf(&a.Scopes, in.Scopes)
	setIf(&a.TokenTTL, ptrDuration(in.TokenTTL))
	setIf(&a.TokenFormat, in.TokenFormat)
	setIf(&a.SigningAlg, in.SigningAlg)
	setIf(&a.Service, in.Service)
	setIf(&a.ReuseWindow, ptrDuration(in.ReuseWindow))
	setIf(&a.AcceptExchangeFrom, in.AcceptExchangeFrom)
	return a
}

func (in APIInput) patch() APIPatch {
	return APIPatch{Name: in.Name, Scopes: in.Scopes, TokenTTL: ptrDuration(in.TokenTTL), TokenFormat: in.TokenFormat,
		SigningAlg: in.SigningAlg, Service: in.Service, ReuseWindow: ptrDuration(in.ReuseWindow), AcceptExchangeFrom: in.AcceptExchangeFrom}
}

// SecretView describes a stored secret without its hash.
type SecretView struct {
	ID        string     `json:"id"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Imported  bool       `json:"imported,omitempty"`
}

// ClientView is a client on the wire; ClientSecret is set only by create
// and rotate-secret, the one time a secret is shown.
type ClientView struct {
	ClientID     string              `json:"client_id"`
	ClientSecret string              `json:"client_secret,omitempty"`
	Name         string              `json:"name"`
	Tenant       string              `json:"tenant,omitempty"`
	Environment  string              `json:"environment,omitempty"`
	Grants       map[string][]string `json:"grants"`
	TokenTTL     *Duration           `json:"token_ttl,omitempty"`
	Disabled     bool                `json:"disabled"`
	Limits       store.Limits        `json:"limits"`
	// AuthMethod is always set ("client_secret" by default); JWKS (a JWK
	// Set object), JWKSURI and the TLS subject are public, shown when set.
	AuthMethod     string          `json:"auth_method"`
	JWKS           json.RawMessage `json:"jwks,omitempty"`
	JWKSURI        string          `json:"jwks_uri,omitempty"`
	TLSSubjectKind string          `json:"tls_subject_kind,omitempty"`
	TLSSubject     string          `json:"tls_subject,omitempty"`
	RequireDPoP    bool            `json:"require_dpop"`
	Secrets        []SecretView    `json:"secrets"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

func clientView(c store.Client, plain string) ClientView {
	a := c.Auth
	v := ClientView{
		ClientID: c.ID, ClientSecret: plain, Name: c.Name, Tenant: c.Tenant, Environment: c.Environment,
		Grants: c.Grants, Disabled: c.Disabled, Limits: c.Limits, Secrets: []SecretView{}, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		AuthMethod: a.MethodOrDefault(), JWKSURI: a.JWKSURI, TLSSubjectKind: a.TLSSubjectKind, TLSSubject: a.TLSSubject, RequireDPoP: a.RequireDPoP,
	}
	if a.JWKS != "" && json.Valid([]byte(a.JWKS)) {
		v.JWKS = json.RawMessage(a.JWKS)
	}
	if v.Grants == nil {
		v.Grants = map[string][]string{}
	}
	if c.TokenTTL > 0 {
		d := Duration(c.TokenTTL)
		v.TokenTTL = &d
	}
	for _, s := range c.Secrets {
		v.Secrets = append(v.Secrets, SecretView{ID: s.ID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, Imported: secret.IsSlow(s.Hash)})
	}
	return v
}

// ClientInput creates (all fields) or patches (non-nil fields) a client.
type ClientInput struct {
	ClientID     string               `json:"client_id"`
	ClientSecret string               `json:"client_secret"`
	Name         *string              `json:"name"`
	Tenant       string               `json:"tenant"`
	Environment  string               `json:"environment"`
	Grants       *map[string][]string `json:"grants"`
	TokenTTL     *Duration            `json:"token_ttl"`
	Limits       *store.Limits        `json:"limits"`
	// SecretExpiresIn, when set, gives the first secret an expiry.
	SecretExpiresIn *Duration `json:"secret_expires_in"`
	AuthInput
}

// AuthInput is how a client authenticates, on the wire: a create takes
// every field, a patch the ones present. JWKS is a JWK Set object; in a
// patch, null (or "") removes a field.
type AuthInput struct {
	AuthMethod     *string         `json:"auth_method,omitempty"`
	JWKS           json.RawMessage `json:"jwks,omitempty"`
	JWKSURI        *string         `json:"jwks_uri,omitempty"`
	TLSSubjectKind *string         `json:"tls_subject_kind,omitempty"`
	TLSSubject     *string         `json:"tls_subject,omitempty"`
	RequireDPoP    *bool           `json:"require_dpop,omitempty"`
}

// jwks is the JWKS text given: nil when absent, "" for null or "".
func (in AuthInput) jwks() *string {
	if in.JWKS == nil {
		return nil
	}
	s := string(bytes.TrimSpace(in.JWKS))
	if s == "null" || s == `""` {
		s = ""
	}
	return &s
}

func (in AuthInput) auth() store.ClientAuth {
	var a store.ClientAuth
	setIf(&a.Method, in.AuthMethod)
	setIf(&a.JWKS, in.jwks())
	setIf(&a.JWKSURI, in.JWKSURI)
	setIf(&a.TLSSubjectKind, in.TLSSubjectKind)
	setIf(&a.TLSSubject, in.TLSSubject)
	setIf(&a.RequireDPoP, in.RequireDPoP)
	return a
}

// patch puts the fields given into p.
func (in AuthInput) patch(p *ClientPatch) {
	p.AuthMethod, p.JWKS, p.JWKSURI = in.AuthMethod, in.jwks(), in.JWKSURI
	p.TLSSubjectKind, p.TLSSubject, p.RequireDPoP = in.TLSSubjectKind, in.TLSSubject, in.RequireDPoP
}

// KeyView is a signing key on the wire (never its private part).
type KeyView struct {
	KID         string     `json:"kid"`
	Alg         string     `json:"alg"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatesAt time.Time  `json:"activates_at"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	RemoveAfter *time.Time `json:"remove_after,omitempty"`
}

func keyView(k store.SigningKey) KeyView {
	return KeyView{k.KID, k.Alg, k.State, k.CreatedAt, k.ActivatesAt, k.RetiredAt, k.RemoveAfter}
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
