package admin

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/store"
)

// The admin input rules every write passes before it reaches the store,
// whichever way it came (admin API, CLI, console), so that both backends
// see the same, already-clean values: PostgreSQL refuses a NUL byte in
// text (a 500 before these rules) while SQLite stored it. Each message
// starts with the wire field at fault.

// Limits on what an admin may store. They bound the size of a client's
// row, of every node's catalog, and of the tokens minted from them.
const (
	MaxNameLen         = 200  // tenant, API and client display names
	MaxDescriptionLen  = 500  // a scope's description
	MaxScopesPerAPI    = 256  // scopes an API defines
	MaxScopesPerGrant  = 100  // scopes one grant lists (each lands in the token)
	MaxGrantsPerClient = 64   // audiences a client holds grants on
	MaxSubjectLen      = 1024 // a tls_client_auth subject
)

// checkText refuses what no display name or description should hold:
// invalid UTF-8, NUL and other control characters, and more than max
// characters. field names the wire field in the message.
func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return invalid("%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return invalid("%s is %d characters long; at most %d are allowed", field, n, max)
	}
	for i, r := range v {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return invalid("%s holds a control character (%U at byte %d); only printable text is allowed", field, r, i)
		}
	}
	return nil
}

// checkKey refuses an id that cannot name anything: ids are looked up in
// the store before a write, and a NUL byte there is a PostgreSQL error.
func checkKey(field, v string, maxLen int) error {
	if v == "" {
		return invalid("%s is required", field)
	}
	if len(v) > maxLen {
		return invalid("%s is longer than %d characters", field, maxLen)
	}
	return checkText(field, v, maxLen)
}

// checkSlug checks a tenant or environment id.
func checkSlug(field, v string) error {
	if err := checkKey(field, v, 63); err != nil {
		return err
	}
	if !store.ValidSlug(v) {
		return invalid("%s %q must be 1-63 lower-case letters, digits or '-'", field, v)
	}
	return nil
}

// checkDuration refuses a negative duration, naming its field.
func checkDuration(field string, d time.Duration) error {
	if d < 0 {
		return invalid("%s must not be negative (got %s)", field, d)
	}
	return nil
}

// checkLimits refuses negative budgets, naming the field.
func checkLimits(l store.Limits) error {
	for _, f := range []struct {
		name string
		v    int64
	}{{"limits.rate_per_second", l.RatePerSecond}, {"limits.quota_hour", l.QuotaHour}, {"limits.quota_day", l.QuotaDay}} {
		if f.v < 0 {
			return invalid("%s must not be negative (got %d)", f.name, f.v)
		}
	}
	return nil
}

// checkTenantName checks a tenant's display name.
func checkTenantName(name string) error { return checkText("name", name, MaxNameLen) }

// checkAPIInput applies the admin input rules to an API before its own
// Validate (format, algorithm, lifetime bounds) runs.
func checkAPIInput(a store.API) error {
	if err := checkKey("audience", a.Audience, 512); err != nil {
		return err
	}
	if err := checkText("name", a.Name, MaxNameLen); err != nil {
		return err
	}
	if err := checkDuration("token_ttl", a.TokenTTL); err != nil {
		return err
	}
	if err := checkDuration("reuse_window", a.ReuseWindow); err != nil {
		return err
	}
	if err := checkText("service", a.Service, 63); err != nil {
		return err
	}
	if len(a.Scopes) > MaxScopesPerAPI {
		return invalid("scopes: an API defines at most %d scopes, not %d", MaxScopesPerAPI, len(a.Scopes))
	}
	for i, s := range a.Scopes {
		if err := checkText(fmt.Sprintf("scopes[%d].name", i), s.Name, 128); err != nil {
			return err
		}
		if err := checkText(fmt.Sprintf("scopes[%d].description", i), s.Description, MaxDescriptionLen); err != nil {
			return err
		}
	}
	return nil
}

// checkClientInput applies the admin input rules to a client's own
// fields before its Validate and the checks against the store run.
func checkClientInput(c store.Client) error {
	if err := checkText("name", c.Name, MaxNameLen); err != nil {
		return err
	}
	if err := checkKey("client_id", c.ID, 128); err != nil {
		return err
	}
	if err := checkSlug("tenant", c.Tenant); err != nil {
		return err
	}
	if c.Environment != "" {
		if err := checkSlug("environment", c.Environment); err != nil {
			return err
		}
	}
	if err := checkDuration("token_ttl", c.TokenTTL); err != nil {
		return err
	}
	if err := checkLimits(c.Limits); err != nil {
		return err
	}
	if err := checkGrantShape(c.Grants); err != nil {
		return err
	}
	return checkAuthText(c.Auth)
}

// checkGrantShape bounds a client's grants: how many audiences, how many
// scopes each, no scope twice, and text that can be stored and minted.
func checkGrantShape(grants map[string][]string) error {
	if len(grants) > MaxGrantsPerClient {
		return invalid("grants: a client holds grants on at most %d APIs, not %d", MaxGrantsPerClient, len(grants))
	}
	for aud, scopes := range grants {
		if err := checkKey("grants: audience", aud, 512); err != nil {
			return err
		}
		if len(scopes) > MaxScopesPerGrant {
			return invalid("grants[%q]: a grant lists at most %d scopes, not %d", aud, MaxScopesPerGrant, len(scopes))
		}
		seen := make(map[string]bool, len(scopes))
		for _, s := range scopes {
			if err := checkText(fmt.Sprintf("grants[%q]: scope", aud), s, 128); err != nil {
				return err
			}
			if seen[s] {
				return invalid("grants[%q]: scope %q is listed twice", aud, s)
			}
			seen[s] = true
		}
	}
	return nil
}

// checkAuthText checks the text of the authentication fields; checkAuth
// applies their rules.
func checkAuthText(a store.ClientAuth) error {
	for _, f := range []struct {
		name string
		v    string
		max  int
	}{
		{"auth_method", a.Method, 64}, {"jwks_uri", a.JWKSURI, 2048},
		{"tls_subject_kind", a.TLSSubjectKind, 16}, {"tls_subject", a.TLSSubject, MaxSubjectLen},
	} {
		if err := checkText(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	if len(a.JWKS) > maxClientJWKS {
		return invalid("jwks is larger than %d KiB", maxClientJWKS>>10)
	}
	if !utf8.ValidString(a.JWKS) {
		return invalid("jwks is not valid UTF-8")
	}
	return nil
}

// checkLookup turns an id that no stored entity can have (not UTF-8, a
// control character, far too long) into not found before it reaches the
// store, where PostgreSQL would fail on a NUL byte.
func checkLookup(kind, v string) error {
	if len(v) > 1024 || checkText(kind, v, 1024) != nil {
		return fmt.Errorf("%w: no such %s", store.ErrNotFound, kind)
	}
	return nil
}

// checkClientPatch applies the input rules to the fields a patch sets:
// only those, so that a client stored before a rule existed can still be
// disabled or fixed.
func checkClientPatch(p ClientPatch) error {
	if p.Name != nil {
		if err := checkText("name", *p.Name, MaxNameLen); err != nil {
			return err
		}
	}
	if p.TokenTTL != nil {
		if err := checkDuration("token_ttl", *p.TokenTTL); err != nil {
			return err
		}
	}
	if p.Limits != nil {
		if err := checkLimits(*p.Limits); err != nil {
			return err
		}
	}
	if p.Grants != nil {
		if err := checkGrantShape(*p.Grants); err != nil {
			return err
		}
	}
	var a store.ClientAuth
	setIf(&a.Method, p.AuthMethod)
	setIf(&a.JWKS, p.JWKS)
	setIf(&a.JWKSURI, p.JWKSURI)
	setIf(&a.TLSSubjectKind, p.TLSSubjectKind)
	setIf(&a.TLSSubject, p.TLSSubject)
	return checkAuthText(a)
}

// checkAPIPatch applies the input rules to the fields a patch sets.
func checkAPIPatch(p APIPatch) error {
	a := store.API{Audience: "urn:x"}
	setIf(&a.Name, p.Name)
	setIf(&a.Scopes, p.Scopes)
	setIf(&a.TokenTTL, p.TokenTTL)
	setIf(&a.Service, p.Service)
	setIf(&a.ReuseWindow, p.ReuseWindow)
	return checkAPIInput(a)
}

func withAuth(c store.Client, a store.ClientAuth) store.Client {
	c.Auth = a
	return c
}
