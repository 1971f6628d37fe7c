package declare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/jwks"
	"github.com/gatehouse/gatehouse/internal/store"
)

// trustSpec is a tenant's federation trust in a document (DESIGN §9),
// with its rules. Its keys come from one source: jwks (a JWK Set), or
// jwks_file (a JWK Set or PEM public keys, read when the file is read
// and written back by export as jwks), or jwks_uri; with none, from the
// issuer's OIDC discovery.
type trustSpec struct {
	Tenant    string         `yaml:"tenant" json:"tenant"`
	Name      string         `yaml:"name" json:"name"`
	Issuer    string         `yaml:"issuer" json:"issuer"`
	JWKSURI   string         `yaml:"jwks_uri,omitempty" json:"jwks_uri,omitempty"`
	JWKS      map[string]any `yaml:"jwks,omitempty" json:"jwks,omitempty"`
	JWKSFile  string         `yaml:"jwks_file,omitempty" json:"jwks_file,omitempty"`
	Audiences []string       `yaml:"audiences,omitempty" json:"audiences,omitempty"`
	MaxAge    Duration       `yaml:"max_age,omitempty" json:"max_age,omitempty"`
	SingleUse bool           `yaml:"single_use,omitempty" json:"single_use,omitempty"`
	Rules     []ruleSpec     `yaml:"rules,omitempty" json:"rules,omitempty"`
}

// ruleSpec is one rule of a trust: the workloads whose claims match act
// as client, capped by scopes and token_ttl where set.
type ruleSpec struct {
	Name     string   `yaml:"name" json:"name"`
	Client   string   `yaml:"client" json:"client"`
	Match    string   `yaml:"match" json:"match"`
	Scopes   []string `yaml:"scopes,omitempty" json:"scopes,omitempty"`
	TokenTTL Duration `yaml:"token_ttl,omitempty" json:"token_ttl,omitempty"`
}

func (t trustSpec) key() string { return store.TrustKey(t.Tenant, t.Name) }

// fields are the trust's own fields, then one per rule ("rule NAME"), so
// that the diff shows a rule added, removed or changed.
func (t trustSpec) fields() []field {
	fs := []field{
		{name: "issuer", value: t.Issuer},
		{name: "jwks", value: jwksText(t.JWKS)},
		{name: "jwks_uri", value: t.JWKSURI},
		{name: "audiences", value: strings.Join(t.Audiences, " ")},
		{name: "max_age", value: t.MaxAge.String()},
		{name: "single_use", value: fmt.Sprint(t.SingleUse)},
	}
	for _, r := range t.Rules {
		fs = append(fs, field{name: "rule " + r.Name, value: r.text(),
			replaced: "deleted and added again: the admin API has no rule update"})
	}
	return fs
}

func (r ruleSpec) text() string {
	s := fmt.Sprintf("client %s, match %s", r.Client, r.Match)
	if len(r.Scopes) > 0 {
		s += ", scopes " + strings.Join(r.Scopes, " ")
	}
	if r.TokenTTL != 0 {
		s += ", token_ttl " + r.TokenTTL.String()
	}
	return s
}

// refs are the trust's tenant and each rule's client, which must be the
// tenant's and hold every scope the rule caps.
func (t trustSpec) refs() []ref {
	rs := []ref{{kind: "tenant", key: t.Tenant, field: "tenant"}}
	for _, r := range t.Rules {
		rs = append(rs, ref{kind: "client", key: r.Client, field: "rule " + r.Name + ": client", check: func(target spec) error {
			c := target.(clientSpec)
			if c.Tenant != t.Tenant {
				return fmt.Errorf("rule %s: client %s belongs to tenant %q, not %q: a rule maps workloads to a client of the trust's own tenant",
					r.Name, c.ClientID, c.Tenant, t.Tenant)
			}
			for _, sc := range r.Scopes {
				if !slices.ContainsFunc(sortedKeys(c.Grants), func(aud string) bool { return slices.Contains(c.Grants[aud], sc) }) {
					return fmt.Errorf("rule %s: scopes: client %s holds no scope %q in its grants", r.Name, c.ClientID, sc)
				}
			}
			return nil
		}})
	}
	return rs
}

// store is the trust in the store's form.
func (t trustSpec) store() store.Trust {
	st := store.Trust{Tenant: t.Tenant, Name: t.Name, Issuer: t.Issuer, JWKSURI: t.JWKSURI, Audiences: t.Audiences,
		MaxAge: time.Duration(t.MaxAge), SingleUse: t.SingleUse}
	if t.JWKS != nil {
		b, _ := json.Marshal(t.JWKS)
		st.JWKS = string(b)
	}
	return st
}

// checkTrust checks a document's trust with the admin API's own rules
// (fields, expressions), reads its jwks_file, and returns it in the
// server's form. References (tenant, clients) are the plan's.
func checkTrust(t trustSpec) (trustSpec, error) {
	if !store.ValidSlug(t.Tenant) || !store.ValidSlug(t.Name) {
		return t, errors.New("tenant and name must each be 1-63 lower-case letters, digits or '-'")
	}
	if t.JWKSFile != "" {
		if t.JWKS != nil {
			return t, errors.New("jwks and jwks_file: give the keys once")
		}
		set, err := readJWKSFile(t.JWKSFile)
		if err != nil {
			return t, fmt.Errorf("jwks_file: %w", err)
		}
		t.JWKS, t.JWKSFile = set, ""
	}
	if _, err := json.Marshal(t.JWKS); err != nil {
		return t, fmt.Errorf("jwks is not a JSON object: %w", err)
	}
	st, err := admin.CheckTrust(t.store())
	if err != nil {
		return t, adminMessage(err)
	}
	t.Issuer, t.JWKSURI, t.Audiences, t.JWKS = st.Issuer, st.JWKSURI, st.Audiences, nil
	if st.JWKS != "" {
		if err := json.Unmarshal([]byte(st.JWKS), &t.JWKS); err != nil {
			return t, fmt.Errorf("jwks: %w", err)
		}
	}
	if len(t.Rules) > admin.MaxTrustRules {
		return t, fmt.Errorf("rules: a trust holds at most %d rules", admin.MaxTrustRules)
	}
	seen := map[string]bool{}
	for i, r := range t.Rules {
		if t.Rules[i], err = checkRule(r); err != nil {
			return t, fmt.Errorf("rules: rule %d (%q): %w", i+1, r.Name, err)
		}
		if seen[t.Rules[i].Name] {
			return t, fmt.Errorf("rules: two rules are named %q", t.Rules[i].Name)
		}
		seen[t.Rules[i].Name] = true
	}
	if len(t.Rules) == 0 {
		t.Rules = nil
	}
	return t, nil
}

// checkRule checks what a rule holds on its own with the admin API's
// rule; its client is a reference, checked by the plan.
func checkRule(r ruleSpec) (ruleSpec, error) {
	st, err := admin.CheckRule(store.TrustRule{Name: r.Name, Client: r.Client, Match: r.Match, Scopes: r.Scopes,
		TokenTTL: time.Duration(r.TokenTTL)})
	if err != nil {
		return r, adminMessage(err)
	}
	r.Name, r.Client, r.Match, r.Scopes = st.Name, st.Client, st.Match, st.Scopes
	return r, nil
}

// adminMessage is an admin refusal without the admin package's prefix.
func adminMessage(err error) error {
	return errors.New(strings.TrimPrefix(err.Error(), admin.ErrInvalid.Error()+": "))
}

// readJWKSFile reads a JWK Set or PEM public keys, as `trust create
// --jwks-file` does.
func readJWKSFile(path string) (map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, err
	}
	set, err := jwks.FromFile(doc)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(set, &out)
}

func trustFromView(v admin.TrustView) trustSpec {
	t := trustSpec{Tenant: v.Tenant, Name: v.Name, Issuer: v.Issuer, JWKSURI: v.JWKSURI, SingleUse: v.SingleUse}
	if len(v.Audiences) > 0 {
		t.Audiences = v.Audiences
	}
	if v.MaxAge != nil {
		t.MaxAge = Duration(*v.MaxAge)
	}
	if len(v.JWKS) > 0 {
		_ = json.Unmarshal(v.JWKS, &t.JWKS)
	}
	for _, r := range v.Rules {
		rs := ruleSpec{Name: r.Name, Client: r.Client, Match: r.Match, Scopes: r.Scopes}
		if r.TokenTTL != nil {
			rs.TokenTTL = Duration(*r.TokenTTL)
		}
		t.Rules = append(t.Rules, rs)
	}
	return t
}

func (r ruleSpec) input() admin.RuleInput {
	in := admin.RuleInput{Name: r.Name, Client: r.Client, Match: r.Match, Scopes: r.Scopes}
	if r.TokenTTL != 0 {
		d := admin.Duration(r.TokenTTL)
		in.TokenTTL = &d
	}
	return in
}

// input is every field of the trust but its name and rules, for a create
// or a patch ("" and [] remove a field).
func (t trustSpec) input() admin.TrustInput {
	auds := append([]string{}, t.Audiences...)
	maxAge := admin.Duration(t.MaxAge)
	in := admin.TrustInput{Issuer: &t.Issuer, JWKSURI: &t.JWKSURI, JWKS: json.RawMessage(`""`), Audiences: &auds,
		MaxAge: &maxAge, SingleUse: &t.SingleUse}
	if t.JWKS != nil {
		in.JWKS, _ = json.Marshal(t.JWKS)
	}
	return in
}

func (t trustSpec) path(rest ...string) string {
	return "/admin/v1/tenants" + adminclient.Path(append([]string{t.Tenant, "trusts", t.Name}, rest...)...)
}

var trusts = &kindOf[trustSpec]{
	one: "trust", many: "trusts",
	check: checkTrust,
	list: func(ctx context.Context, a Admin) ([]trustSpec, error) {
		var vs []admin.TrustView
		if err := a.Do(ctx, "GET", "/admin/v1/trusts", nil, &vs); err != nil {
			return nil, err
		}
		out := make([]trustSpec, len(vs))
		for i, v := range vs {
			out[i] = trustFromView(v)
		}
		return out, nil
	},
	create: func(ctx context.Context, a Admin, t trustSpec) ([]Result, error) {
		in := t.input()
		in.Name = t.Name
		for _, r := range t.Rules {
			in.Rules = append(in.Rules, r.input())
		}
		return nil, a.Do(ctx, "POST", "/admin/v1/tenants"+adminclient.Path(t.Tenant, "trusts"), in, nil)
	},
	update: updateTrust,
	remove: func(ctx context.Context, a Admin, t trustSpec) error {
		return a.Do(ctx, "DELETE", t.path(), nil, nil)
	},
}

// updateTrust patches the trust's own fields when one differs, then
// deletes the rules the file drops or changes and adds the ones it adds
// or changes: the admin API has no rule update, so a changed rule is
// deleted and added again (its workloads are refused in between).
func updateTrust(ctx context.Context, a Admin, want, have trustSpec) ([]Result, error) {
	own := func(t trustSpec) []field { return t.fields()[:6] }
	if !slices.Equal(own(want), own(have)) {
		in := want.input()
		if err := a.Do(ctx, "PATCH", want.path(), in, nil); err != nil {
			return nil, err
		}
	}
	rules := func(t trustSpec) map[string]ruleSpec {
		m := map[string]ruleSpec{}
		for _, r := range t.Rules {
			m[r.Name] = r
		}
		return m
	}
	wr, hr := rules(want), rules(have)
	for _, r := range have.Rules {
		if w, ok := wr[r.Name]; !ok || w.text() != r.text() {
			if err := a.Do(ctx, "DELETE", want.path("rules", r.Name), nil, nil); err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.Name, err)
			}
		}
	}
	for _, r := range want.Rules {
		if h, ok := hr[r.Name]; !ok || h.text() != r.text() {
			if err := a.Do(ctx, "POST", want.path("rules"), r.input(), nil); err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.Name, err)
			}
		}
	}
	return nil, nil
}
