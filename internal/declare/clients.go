package declare

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// clientSpec is a client in a document. It never holds a secret: a new
// client_secret client gets a generated one (printed once), or imports
// one from SecretFromEnv or SecretFile, read only when it is created.
type clientSpec struct {
	ClientID       string              `yaml:"client_id" json:"client_id"`
	Name           string              `yaml:"name" json:"name"`
	Tenant         string              `yaml:"tenant" json:"tenant"`
	Environment    string              `yaml:"environment,omitempty" json:"environment,omitempty"`
	Grants         map[string][]string `yaml:"grants,omitempty" json:"grants,omitempty"`
	TokenTTL       Duration            `yaml:"token_ttl,omitempty" json:"token_ttl,omitempty"`
	Limits         *Limits             `yaml:"limits,omitempty" json:"limits,omitempty"`
	Disabled       bool                `yaml:"disabled,omitempty" json:"disabled,omitempty"`
	AuthMethod     string              `yaml:"auth_method,omitempty" json:"auth_method,omitempty"`
	JWKS           map[string]any      `yaml:"jwks,omitempty" json:"jwks,omitempty"`
	JWKSURI        string              `yaml:"jwks_uri,omitempty" json:"jwks_uri,omitempty"`
	TLSSubjectKind string              `yaml:"tls_subject_kind,omitempty" json:"tls_subject_kind,omitempty"`
	TLSSubject     string              `yaml:"tls_subject,omitempty" json:"tls_subject,omitempty"`
	RequireDPoP    bool                `yaml:"require_dpop,omitempty" json:"require_dpop,omitempty"`
	SecretFromEnv  string              `yaml:"secret_from_env,omitempty" json:"secret_from_env,omitempty"`
	SecretFile     string              `yaml:"secret_file,omitempty" json:"secret_file,omitempty"`

	secret string // an imported secret, read by prepare
}

func (c clientSpec) key() string { return c.ClientID }

func (c clientSpec) fields() []field {
	return []field{
		{name: "name", value: c.Name},
		{name: "tenant", value: c.Tenant, fixed: "a client cannot move to another tenant (delete it and create a new one)"},
		{name: "environment", value: c.Environment, fixed: "a client cannot move to another environment (delete it and create a new one)"},
		{name: "grants", value: grantsText(c.Grants)},
		{name: "token_ttl", value: c.TokenTTL.String()},
		{name: "limits", value: c.Limits.String()},
		{name: "disabled", value: fmt.Sprint(c.Disabled)},
		{name: "auth_method", value: c.method()},
		{name: "jwks", value: jwksText(c.JWKS)},
		{name: "jwks_uri", value: c.JWKSURI},
		{name: "tls_subject_kind", value: c.TLSSubjectKind},
		{name: "tls_subject", value: c.TLSSubject},
		{name: "require_dpop", value: fmt.Sprint(c.RequireDPoP)},
	}
}

func (c clientSpec) refs() []ref {
	var rs []ref
	if c.Tenant != "" { // the bootstrap admin client has none
		rs = append(rs, ref{kind: "tenant", key: c.Tenant, field: "tenant"})
	}
	if c.Environment != "" {
		rs = append(rs, ref{kind: "environment", key: c.Tenant + "/" + c.Environment, field: "environment"})
	}
	for _, aud := range sortedKeys(c.Grants) {
		scopes := c.Grants[aud]
		rs = append(rs, ref{kind: "api", key: aud, field: "grants", check: func(t spec) error {
			api := t.(apiSpec)
			for _, s := range scopes {
				if !slices.ContainsFunc(api.Scopes, func(d scopeSpec) bool { return d.Name == s }) {
					return fmt.Errorf("grants: scope %q is not one of api %s's scopes (%s)", s, aud, api.fields()[1].value)
				}
			}
			return nil
		}})
	}
	return rs
}

func (c clientSpec) method() string { return store.ClientAuth{Method: c.AuthMethod}.MethodOrDefault() }

func grantsText(g map[string][]string) string {
	var parts []string
	for _, aud := range sortedKeys(g) {
		parts = append(parts, aud+"="+strings.Join(g[aud], " "))
	}
	return strings.Join(parts, "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jwksText is a JWK Set's canonical JSON (object keys sorted) shown short:
// its key ids and a digest, so that a changed key shows as a change.
func jwksText(set map[string]any) string {
	if set == nil {
		return ""
	}
	b, _ := json.Marshal(set)
	sum := sha256.Sum256(b)
	return fmt.Sprintf("keys %s (sha256 %s)", strings.Join(admin.KeyIDs(string(b)), ", "), hex.EncodeToString(sum[:6]))
}

// auth is c's authentication in the store's form.
func (c clientSpec) auth() store.ClientAuth {
	a := store.ClientAuth{Method: c.AuthMethod, JWKSURI: c.JWKSURI, TLSSubjectKind: c.TLSSubjectKind,
		TLSSubject: c.TLSSubject, RequireDPoP: c.RequireDPoP}
	if c.JWKS != nil {
		b, _ := json.Marshal(c.JWKS)
		a.JWKS = string(b)
	}
	return a
}

// setAuth puts a (in the store's form) into c.
func (c *clientSpec) setAuth(a store.ClientAuth) error {
	c.AuthMethod, c.JWKSURI, c.TLSSubjectKind, c.TLSSubject, c.RequireDPoP = a.Method, a.JWKSURI, a.TLSSubjectKind, a.TLSSubject, a.RequireDPoP
	c.JWKS = nil
	if a.JWKS != "" {
		return json.Unmarshal([]byte(a.JWKS), &c.JWKS)
	}
	return nil
}

func checkClient(c clientSpec) (clientSpec, error) {
	if c.ClientID == "" {
		return c, errors.New("client_id is required: name the client (1-128 of A-Z a-z 0-9 _ - .) or copy its id from `gatehouse client list`")
	}
	if c.Tenant == "" {
		return c, errors.New("tenant is required")
	}
	st := store.Client{ID: c.ClientID, Name: c.Name, Tenant: c.Tenant, Environment: c.Environment,
		Grants: c.Grants, TokenTTL: time.Duration(c.TokenTTL)}
	if c.Limits != nil {
		st.Limits = store.Limits(*c.Limits)
	}
	if err := st.Validate(); err != nil {
		return c, err
	}
	auth, err := admin.CheckClientAuth(c.auth())
	if err != nil {
		return c, errors.New(strings.TrimPrefix(err.Error(), admin.ErrInvalid.Error()+": "))
	}
	if err := c.setAuth(auth); err != nil {
		return c, err
	}
	switch {
	case c.SecretFromEnv != "" && c.SecretFile != "":
		return c, errors.New("secret_from_env and secret_file: give one source for the imported secret")
	case (c.SecretFromEnv != "" || c.SecretFile != "") && !auth.UsesSecret():
		return c, fmt.Errorf("an imported secret is only for auth_method client_secret; a %s client has no secret", auth.Method)
	}
	if len(c.Grants) == 0 {
		c.Grants = nil
	}
	c.Limits = nonZero(c.Limits)
	return c, nil
}

// readSecret reads the imported secret of a client about to be created.
func readSecret(c clientSpec) (clientSpec, error) {
	switch {
	case c.SecretFromEnv != "":
		c.secret = os.Getenv(c.SecretFromEnv)
		if c.secret == "" {
			return c, fmt.Errorf("secret_from_env: the environment variable %s is not set or empty", c.SecretFromEnv)
		}
	case c.SecretFile != "":
		b, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return c, fmt.Errorf("secret_file: %w", err)
		}
		c.secret = strings.TrimRight(string(b), "\r\n")
	default:
		return c, nil
	}
	if err := secret.ValidateImported(c.secret); err != nil {
		return c, fmt.Errorf("imported secret: %w", err)
	}
	return c, nil
}

func clientFromView(v admin.ClientView) clientSpec {
	c := clientSpec{ClientID: v.ClientID, Name: v.Name, Tenant: v.Tenant, Environment: v.Environment, Grants: v.Grants,
		Disabled: v.Disabled, AuthMethod: v.AuthMethod, JWKSURI: v.JWKSURI, TLSSubjectKind: v.TLSSubjectKind,
		TLSSubject: v.TLSSubject, RequireDPoP: v.RequireDPoP, Limits: nonZero(&Limits{RatePerSecond: v.Limits.RatePerSecond, QuotaHour: v.Limits.QuotaHour, QuotaDay: v.Limits.QuotaDay, Mode: v.Limits.Mode})}
	if c.AuthMethod == store.AuthSecret {
		c.AuthMethod = ""
	}
	if len(c.Grants) == 0 {
		c.Grants = nil
	}
	if v.TokenTTL != nil {
		c.TokenTTL = Duration(*v.TokenTTL)
	}
	if len(v.JWKS) > 0 {
		_ = json.Unmarshal(v.JWKS, &c.JWKS)
	}
	return c
}

// authInput is every auth field of c, for a create or for an update that
// changes how the client authenticates ("" removes a field).
func (c clientSpec) authInput() admin.AuthInput {
	method := c.method()
	in := admin.AuthInput{AuthMethod: &method, JWKSURI: &c.JWKSURI, TLSSubjectKind: &c.TLSSubjectKind,
		TLSSubject: &c.TLSSubject, RequireDPoP: &c.RequireDPoP, JWKS: json.RawMessage(`""`)}
	if c.JWKS != nil {
		in.JWKS, _ = json.Marshal(c.JWKS)
	}
	return in
}

func (c clientSpec) adminTTL() *admin.Duration {
	d := admin.Duration(c.TokenTTL)
	return &d
}

func (c clientSpec) storeLimits() *store.Limits {
	var l store.Limits
	if c.Limits != nil {
		l = store.Limits(*c.Limits)
	}
	return &l
}

func grantsOrEmpty(g map[string][]string) *map[string][]string {
	if g == nil {
		g = map[string][]string{}
	}
	return &g
}

var clients = &kindOf[clientSpec]{
	one: "client", many: "clients",
	check: checkClient,
	list: func(ctx context.Context, a Admin) ([]clientSpec, error) {
		var vs []admin.ClientView
		if err := a.Do(ctx, "GET", "/admin/v1/clients", nil, &vs); err != nil {
			return nil, err
		}
		out := make([]clientSpec, len(vs))
		for i, v := range vs {
			out[i] = clientFromView(v)
		}
		return out, nil
	},
	// A client without a tenant is the bootstrap admin client: gatehouse's own.
	managed: func(c clientSpec) bool { return c.Tenant != "" },
	protect: func(c clientSpec, self string) string {
		if c.ClientID == self {
			return "the admin client this command uses"
		}
		return ""
	},
	spares: func(c clientSpec, self string) error {
		if c.ClientID == self && (c.Disabled || !slices.Contains(c.Grants[store.AdminAudience], store.ScopeWrite)) {
			return fmt.Errorf("this is the admin client apply runs as: the file must keep it enabled with %s on %s", store.ScopeWrite, store.AdminAudience)
		}
		return nil
	},
	prepare: readSecret,
	create:  createClient,
	update:  updateClient,
	remove: func(ctx context.Context, a Admin, c clientSpec) error {
		return a.Do(ctx, "DELETE", "/admin/v1/clients"+adminclient.Path(c.ClientID), nil, nil)
	},
}

func createClient(ctx context.Context, a Admin, c clientSpec) ([]Result, error) {
	in := admin.ClientInput{ClientID: c.ClientID, ClientSecret: c.secret, Name: &c.Name, Tenant: c.Tenant,
		Environment: c.Environment, Grants: grantsOrEmpty(c.Grants), Limits: c.storeLimits(), AuthInput: c.authInput()}
	if c.TokenTTL != 0 {
		in.TokenTTL = c.adminTTL()
	}
	var got admin.ClientView
	if err := a.Do(ctx, "POST", "/admin/v1/clients", in, &got); err != nil {
		return nil, err
	}
	var out []Result
	if got.ClientSecret != "" {
		out = append(out, Result{Name: "client_secret", Value: got.ClientSecret})
	}
	if c.Disabled {
		err := a.Do(ctx, "POST", "/admin/v1/clients"+adminclient.Path(c.ClientID, "disable"), nil, nil)
		return out, err
	}
	return out, nil
}

// updateClient sends every field the document sets; the auth fields only
// when how the client authenticates changes. A client moved to
// client_secret has no secret then, so it is given one, printed once.
func updateClient(ctx context.Context, a Admin, want, have clientSpec) ([]Result, error) {
	patch := struct {
		Name     *string              `json:"name"`
		Grants   *map[string][]string `json:"grants"`
		TokenTTL *admin.Duration      `json:"token_ttl"`
		Disabled *bool                `json:"disabled"`
		Limits   *store.Limits        `json:"limits"`
		admin.AuthInput
	}{Name: &want.Name, Grants: grantsOrEmpty(want.Grants), TokenTTL: want.adminTTL(), Disabled: &want.Disabled, Limits: want.storeLimits()}
	dpop := want.RequireDPoP
	wa, ha := want.auth(), have.auth()
	wa.JWKS, ha.JWKS, wa.RequireDPoP, ha.RequireDPoP = "", "", false, false
	authChanged := wa != ha || jwksText(want.JWKS) != jwksText(have.JWKS)
	if authChanged {
		patch.AuthInput = want.authInput()
	}
	patch.RequireDPoP = &dpop
	path := "/admin/v1/clients" + adminclient.Path(want.ClientID)
	if err := a.Do(ctx, "PATCH", path, patch, nil); err != nil {
		return nil, err
	}
	if !authChanged || want.method() != store.AuthSecret {
		return nil, nil
	}
	var got admin.ClientView
	if err := a.Do(ctx, "POST", path+"/rotate-secret", nil, &got); err != nil {
		return nil, err
	}
	return []Result{{Name: "client_secret", Value: got.ClientSecret}}, nil
}
