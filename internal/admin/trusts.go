package admin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Workload identity federation (DESIGN §9): the rules for a tenant's
// trusts and their rules. Messages start with the wire field they are
// about. What a trust accepts at run time is internal/federation's.

// Limits on a trust, so that one cannot grow without bound in the store
// and in every node's memory.
const (
	MaxTrustsPerTenant = 100
	MaxTrustRules      = 64
	MaxTrustAudiences  = 16
	MaxRuleScopes      = 64
	// MaxTrustAge bounds max_age and a rule's token_ttl, as an API's
	// token_ttl is bounded.
	MaxTrustAge = 30 * 24 * time.Hour
)

// errRuleExists is AddRule's clash, named in its answer.
var errRuleExists = errors.New("rule exists")

// CreateTrust adds a trust, with any rules it carries, after validating
// it: its tenant exists, its name is a slug, its issuer and key source
// are sound, and each rule passes AddRule's checks.
func (s *Service) CreateTrust(ctx context.Context, t store.Trust) (store.Trust, error) {
	if !store.ValidSlug(t.Name) {
		return t, invalid("name %q must be 1-63 lower-case letters, digits or '-'", t.Name)
	}
	if _, err := s.store.GetTenant(ctx, t.Tenant); err != nil {
		return t, err // the tenant is the trust's parent: missing, it is not found
	}
	var err error
	if t, err = checkTrust(t); err != nil {
		return t, err
	}
	if len(t.Rules) > MaxTrustRules {
		return t, invalid("rules: a trust holds at most %d rules", MaxTrustRules)
	}
	seen := map[string]bool{}
	for i, r := range t.Rules {
		if t.Rules[i], err = s.checkRule(ctx, t.Tenant, r); err != nil {
			if errors.Is(err, ErrInvalid) {
				return t, invalid("rules: rule %d (%q): %s", i+1, r.Name, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
			}
			return t, err
		}
		if seen[t.Rules[i].Name] {
			return t, invalid("rules: two rules are named %q", t.Rules[i].Name)
		}
		seen[t.Rules[i].Name] = true
	}
	existing, err := s.store.ListTrusts(ctx, t.Tenant)
	if err != nil {
		return t, err
	}
	if len(existing) >= MaxTrustsPerTenant {
		return t, invalid("tenant %s already has %d trusts, the most one tenant may hold", t.Tenant, MaxTrustsPerTenant)
	}
	if t.Rules == nil {
		t.Rules = []store.TrustRule{}
	}
	t.CreatedAt, t.UpdatedAt = s.now(), s.now()
	if err := s.store.CreateTrust(ctx, t); err != nil {
		return t, err
	}
	s.audit(ctx, "trust.create", t.Key(), nil, trustView(t))
	return t, nil
}

// GetTrust returns one trust with its rules.
func (s *Service) GetTrust(ctx context.Context, tenant, name string) (store.Trust, error) {
	return s.store.GetTrust(ctx, tenant, name)
}

// ListTrusts lists a tenant's trusts, or every tenant's when tenant is "";
// an unknown tenant is ErrNotFound rather than an empty list.
func (s *Service) ListTrusts(ctx context.Context, tenant string) ([]store.Trust, error) {
	if tenant != "" {
		if _, err := s.store.GetTenant(ctx, tenant); err != nil {
			return nil, err
		}
	}
	return s.store.ListTrusts(ctx, tenant)
}

// TrustPatch holds the fields an update may change; nil leaves one alone.
// JWKS and JWKSURI are one key source: giving one removes the other, and
// "" for the one given (with the other absent) means OIDC discovery.
type TrustPatch struct {
	Issuer    *string
	JWKS      *string
	JWKSURI   *string
	Audiences *[]string
	MaxAge    *time.Duration
	SingleUse *bool
}

// UpdateTrust changes a trust's issuer, key source, audiences, max_age or
// single_use; its rules change through AddRule and DeleteRule.
func (s *Service) UpdateTrust(ctx context.Context, tenant, name string, p TrustPatch) (store.Trust, error) {
	var before store.Trust
	t, err := s.store.UpdateTrust(ctx, tenant, name, func(t store.Trust) (store.Trust, error) {
		before = t
		setKeySource(&t.JWKS, &t.JWKSURI, p.JWKS, p.JWKSURI)
		setIf(&t.Issuer, p.Issuer)
		setIf(&t.Audiences, p.Audiences)
		setIf(&t.MaxAge, p.MaxAge)
		setIf(&t.SingleUse, p.SingleUse)
		t, err := checkTrust(t)
		if err != nil {
			return t, err
		}
		t.UpdatedAt = s.now()
		return t, nil
	})
	if err != nil {
		return t, err
	}
	s.audit(ctx, "trust.update", t.Key(), trustView(before), trustView(t))
	return t, nil
}

// DeleteTrust removes a trust and its rules; tokens of its issuer are
// refused from then on.
func (s *Service) DeleteTrust(ctx context.Context, tenant, name string) error {
	before, err := s.store.GetTrust(ctx, tenant, name)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTrust(ctx, tenant, name); err != nil {
		return err
	}
	s.audit(ctx, "trust.delete", before.Key(), trustView(before), nil)
	return nil
}

// AddRule adds a rule to a trust. Its name is a slug unique in the trust;
// its client exists and belongs to the trust's tenant (a disabled client
// is accepted: its requests are refused while it stays disabled, and
// enabling it brings the rule back without re-adding it); its match
// compiles; its scopes are ones the client's grants hold; its token_ttl
// is 0 (no cap) or between 1s and MaxTrustAge.
func (s *Service) AddRule(ctx context.Context, tenant, name string, r store.TrustRule) (store.TrustRule, error) {
	if _, err := s.store.GetTrust(ctx, tenant, name); err != nil {
		return r, err
	}
	r, err := s.checkRule(ctx, tenant, r)
	if err != nil {
		return r, err
	}
	var before store.Trust
	t, err := s.store.UpdateTrust(ctx, tenant, name, func(t store.Trust) (store.Trust, error) {
		before = t
		if slices.ContainsFunc(t.Rules, func(o store.TrustRule) bool { return o.Name == r.Name }) {
			return t, errRuleExists
		}
		if len(t.Rules) >= MaxTrustRules {
			return t, invalid("rules: trust %s already holds %d rules, the most one trust may hold", t.Key(), MaxTrustRules)
		}
		t.Rules = append(slices.Clone(t.Rules), r)
		t.UpdatedAt = s.now()
		return t, nil
	})
	if err != nil {
		if errors.Is(err, errRuleExists) {
			return r, invalidExists("trust %s already has a rule named %q", store.TrustKey(tenant, name), r.Name)
		}
		return r, err
	}
	s.audit(ctx, "trust.add_rule", t.Key(), trustView(before), trustView(t))
	return r, nil
}

// DeleteRule removes a trust's rule; the workloads it matched are refused
// from then on.
func (s *Service) DeleteRule(ctx context.Context, tenant, name, rule string) error {
	var before store.Trust
	t, err := s.store.UpdateTrust(ctx, tenant, name, func(t store.Trust) (store.Trust, error) {
		before = t
		i := slices.IndexFunc(t.Rules, func(o store.TrustRule) bool { return o.Name == rule })
		if i < 0 {
			return t, errNotFound("rule %q of trust %s", rule, t.Key())
		}
		t.Rules = slices.Delete(slices.Clone(t.Rules), i, i+1)
		t.UpdatedAt = s.now()
		return t, nil
	})
	if err != nil {
		return err
	}
	s.audit(ctx, "trust.delete_rule", t.Key(), trustView(before), trustView(t))
	return nil
}

// ListRules lists a trust's rules in the order they were added.
func (s *Service) ListRules(ctx context.Context, tenant, name string) ([]store.TrustRule, error) {
	t, err := s.store.GetTrust(ctx, tenant, name)
	if err != nil {
		return nil, err
	}
	return t.Rules, nil
}

// checkRule validates a rule against the trust's tenant and returns it in
// its stored form (trimmed; scopes without repeats).
func (s *Service) checkRule(ctx context.Context, tenant string, r store.TrustRule) (store.TrustRule, error) {
	r, err := CheckRule(r)
	if err != nil {
		return r, err
	}
	c, err := s.store.GetClient(ctx, r.Client)
	if err != nil {
		return r, notFoundAsInvalid(err, "client %q does not exist", r.Client)
	}
	if c.Tenant != tenant {
		return r, invalid("client %q belongs to tenant %q, not %q: a rule maps workloads to a client of the trust's own tenant", r.Client, c.Tenant, tenant)
	}
	return r, checkRuleScopes(&r, c)
}

// CheckRule checks what a rule holds on its own, before its client is
// looked up (internal/declare calls it to check a whole file first), and
// returns it in its stored form: trimmed, scopes without repeats.
func CheckRule(r store.TrustRule) (store.TrustRule, error) {
	r.Name, r.Client, r.Match = strings.TrimSpace(r.Name), strings.TrimSpace(r.Client), strings.TrimSpace(r.Match)
	if !store.ValidSlug(r.Name) {
		return r, invalid("name %q of the rule must be 1-63 lower-case letters, digits or '-'", r.Name)
	}
	if err := checkMatch(r.Match); err != nil {
		return r, err
	}
	if r.TokenTTL < 0 || (r.TokenTTL > 0 && r.TokenTTL < time.Second) || r.TokenTTL > MaxTrustAge {
		return r, invalid("token_ttl must be 0 (no cap) or between 1s and %s, not %s", shortDuration(MaxTrustAge), r.TokenTTL)
	}
	if r.Client == "" {
		return r, invalid("client is required: the gatehouse client the matched workloads act as")
	}
	if len(r.Scopes) > MaxRuleScopes {
		return r, invalid("scopes: a rule caps at most %d scopes", MaxRuleScopes)
	}
	var out []string
	for _, sc := range r.Scopes {
		sc = strings.TrimSpace(sc)
		switch {
		case sc == "":
			return r, invalid("scopes: a scope is empty")
		case !slices.Contains(out, sc):
			out = append(out, sc)
		}
	}
	r.Scopes = out
	return r, nil
}

// checkRuleScopes checks that a rule's scope cap names only scopes the
// client holds in some grant: any other could never be issued, so it is a
// mistake (a typo, or the wrong client).
func checkRuleScopes(r *store.TrustRule, c store.Client) error {
	var held []string
	for _, scopes := range c.Grants {
		held = append(held, scopes...)
	}
	for _, sc := range r.Scopes {
		if !slices.Contains(held, sc) {
			slices.Sort(held)
			return invalid("scopes: client %s holds no scope %q (it holds: %s)", c.ID, sc, orNone(strings.Join(slices.Compact(held), " ")))
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// shortDuration writes 720h0m0s as 720h.
func shortDuration(d time.Duration) string {
	s := d.String()
	s, _ = strings.CutSuffix(s, "0s")
	s, _ = strings.CutSuffix(s, "0m")
	return s
}

// checkNoRuleNames refuses to delete a client that a trust's rule maps
// workloads to: the rule would dangle, and a client imported later under
// the same id would inherit it.
func (s *Service) checkNoRuleNames(ctx context.Context, c store.Client) error {
	if c.Tenant == "" {
		return nil
	}
	trusts, err := s.store.ListTrusts(ctx, c.Tenant)
	if err != nil {
		return err
	}
	for _, t := range trusts {
		for _, r := range t.Rules {
			if r.Client == c.ID {
				return invalid("client %s is named by rule %q of trust %s: delete that rule first", c.ID, r.Name, t.Key())
			}
		}
	}
	return nil
}
