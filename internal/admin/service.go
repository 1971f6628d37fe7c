package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ErrInvalid marks a request that breaks a rule; the message says which.
var ErrInvalid = errors.New("invalid")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// AuditFunc records an admin change; before and after are wire views,
// never secrets or hashes.
type AuditFunc func(ctx context.Context, kind, target string, before, after any)

// Service applies admin changes to the store and the node's catalog.
type Service struct {
	store   store.Store
	catalog *catalog.Catalog
	audit   AuditFunc
	log     *slog.Logger
	clock   func() time.Time
}

// NewService returns the admin rules over st, keeping cat in step with
// every change; audit records each change, log hears what failed after a
// change was committed, now is the clock (nil: time.Now).
func NewService(st store.Store, cat *catalog.Catalog, audit AuditFunc, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if audit == nil {
		audit = func(context.Context, string, string, any, any) {}
	}
	return &Service{store: st, catalog: cat, audit: audit, log: log, clock: now}
}

// Store is the store the service changes, for reads.
func (s *Service) Store() store.Store { return s.store }

// Catalog is the node's catalog the service keeps in step.
func (s *Service) Catalog() *catalog.Catalog { return s.catalog }

// refresh takes the error of updating this node's catalog after a change
// was committed. The change stands either way: when this refresh fails
// (the database went away just now), the change feed applies it within
// a second of the database's return, so the caller is told of success,
// and the failure is logged, so that an operator sees a node lagging.
func (s *Service) refresh(ctx context.Context, what string, err error) {
	if err != nil {
		s.log.WarnContext(ctx, "catalog refresh after an admin change failed; the change feed will apply it",
			"change", what, "err", err)
	}
}

func (s *Service) now() time.Time { return s.clock().UTC() }

// CreateTenant adds a tenant.
func (s *Service) CreateTenant(ctx context.Context, id, name string) (store.Tenant, error) {
	if err := checkSlug("tenant id", id); err != nil {
		return store.Tenant{}, err
	}
	if err := checkTenantName(name); err != nil {
		return store.Tenant{}, err
	}
	if name == "" {
		name = id
	}
	t := store.Tenant{ID: id, Name: name, CreatedAt: s.now()}
	if err := s.store.CreateTenant(ctx, t); err != nil {
		return t, err
	}
	s.audit(ctx, "tenant.create", id, nil, t)
	s.refresh(ctx, "tenant "+id, s.catalog.RefreshTenant(ctx, id))
	return t, nil
}

// SetTenantLimits sets a tenant's hourly and daily token quotas (0: none).
func (s *Service) SetTenantLimits(ctx context.Context, id string, l store.Limits) (store.Tenant, error) {
	return s.UpdateTenant(ctx, id, nil, &l)
}

// UpdateTenant renames a tenant and/or sets its limits, in one write:
// everything is checked first, so a request refused for one field
// changes nothing (a rename is never left behind by bad limits).
func (s *Service) UpdateTenant(ctx context.Context, id string, name *string, limits *store.Limits) (store.Tenant, error) {
	if err := checkLookup("tenant", id); err != nil {
		return store.Tenant{}, err
	}
	if name == nil && limits == nil {
		return store.Tenant{}, invalid("name or limits is required")
	}
	if name != nil {
		if *name == "" {
			return store.Tenant{}, invalid("name is required")
		}
		if err := checkTenantName(*name); err != nil {
			return store.Tenant{}, err
		}
	}
	if limits != nil {
		if err := checkTenantLimits(*limits); err != nil {
			return store.Tenant{}, err
		}
	}
	var before store.Tenant
	t, err := s.store.UpdateTenant(ctx, id, func(t store.Tenant) (store.Tenant, error) {
		before = t
		if name != nil {
			t.Name = *name
		}
		if limits != nil {
			t.Limits = *limits
		}
		return t, nil
	})
	if err != nil {
		return t, err
	}
	kind := "tenant.update"
	if limits == nil {
		kind = "tenant.rename"
	}
	s.audit(ctx, kind, id, before, t)
	s.refresh(ctx, "tenant "+id, s.catalog.RefreshTenant(ctx, id))
	return t, nil
}

func checkTenantLimits(l store.Limits) error {
	if err := checkLimits(l); err != nil {
		return err
	}
	if l.RatePerSecond != 0 {
		return invalid("limits.rate_per_second: a tenant takes hourly and daily quotas, not a rate limit")
	}
	if err := l.Validate(); err != nil {
		return invalid("%v", err)
	}
	return nil
}

// CreateEnvironment adds an environment with a fresh public api_key.
func (s *Service) CreateEnvironment(ctx context.Context, tenant, id string) (store.Environment, error) {
	if err := checkSlug("tenant", tenant); err != nil {
		return store.Environment{}, err
	}
	if err := checkSlug("environment id", id); err != nil {
		return store.Environment{}, err
	}
	if _, err := s.store.GetTenant(ctx, tenant); err != nil {
		return store.Environment{}, err
	}
	e := store.Environment{Tenant: tenant, ID: id, APIKey: secret.RandomAlnum(24), CreatedAt: s.now()}
	if err := s.store.CreateEnvironment(ctx, e); err != nil {
		return e, err
	}
	s.audit(ctx, "environment.create", tenant+"/"+id, nil, e)
	s.refresh(ctx, "environment "+tenant+"/"+id, s.catalog.RefreshEnvironment(ctx, tenant, id))
	return e, nil
}

// CreateAPI adds an API after validating it.
func (s *Service) CreateAPI(ctx context.Context, a store.API) (store.API, error) {
	if err := checkAPIInput(a); err != nil {
		return a, err
	}
	if strings.HasPrefix(a.Audience, "urn:gatehouse:") {
		return a, invalid("audiences under urn:gatehouse: are reserved")
	}
	if err := a.Validate(); err != nil {
		return a, invalid("%v", err)
	}
	if a.Name == "" {
		a.Name = a.Audience
	}
	if len(a.AcceptExchangeFrom) > 0 {
		v, err := s.checkExchangeFrom(ctx, a.Audience, a.AcceptExchangeFrom)
		if err != nil {
			return a, err
		}
		a.AcceptExchangeFrom = v
	}
	a.BuiltIn = false
	a.CreatedAt, a.UpdatedAt = s.now(), s.now()
	if err := s.store.CreateAPI(ctx, a); err != nil {
		return a, err
	}
	s.audit(ctx, "api.create", a.Audience, nil, apiView(a))
	s.refresh(ctx, "api "+a.Audience, s.catalog.RefreshAPI(ctx, a.Audience))
	return a, nil
}

// APIPatch holds the fields an update may change; nil leaves one alone.
type APIPatch struct {
	Name        *string
	Scopes      *[]store.Scope
	TokenTTL    *time.Duration
	TokenFormat *string
	SigningAlg  *string
	Service     *string
	ReuseWindow *time.Duration
	// AcceptExchangeFrom lists the audiences whose tokens may be exchanged
	// for this API's (checkExchangeFrom); an empty list clears it.
	AcceptExchangeFrom *[]string
}

// UpdateAPI changes an API.
func (s *Service) UpdateAPI(ctx context.Context, audience string, p APIPatch) (store.API, error) {
	if err := checkLookup("API", audience); err != nil {
		return store.API{}, err
	}
	if err := checkAPIPatch(p); err != nil {
		return store.API{}, err
	}
	if p.AcceptExchangeFrom != nil {
		v, err := s.checkExchangeFrom(ctx, audience, *p.AcceptExchangeFrom)
		if err != nil {
			return store.API{}, err
		}
		p.AcceptExchangeFrom = &v
	}
	var before store.API
	a, err := s.store.UpdateAPI(ctx, audience, func(a store.API) (store.API, error) {
		before = a
		if a.BuiltIn && (p.Scopes != nil || p.Service != nil || p.TokenFormat != nil || p.AcceptExchangeFrom != nil) {
			return a, invalid("the built-in API %s can change only its name, lifetime and algorithm", a.Audience)
		}
		setIf(&a.Name, p.Name)
		setIf(&a.Scopes, p.Scopes)
		setIf(&a.TokenTTL, p.TokenTTL)
		setIf(&a.TokenFormat, p.TokenFormat)
		setIf(&a.SigningAlg, p.SigningAlg)
		setIf(&a.Service, p.Service)
		setIf(&a.ReuseWindow, p.ReuseWindow)
		setIf(&a.AcceptExchangeFrom, p.AcceptExchangeFrom)
		if err := a.Validate(); err != nil {
			return a, invalid("%v", err)
		}
		a.UpdatedAt = s.now()
		return a, nil
	})
	if err != nil {
		return a, err
	}
	s.audit(ctx, "api.update", audience, apiView(before), apiView(a))
	s.refresh(ctx, "api "+audience, s.catalog.RefreshAPI(ctx, audience))
	return a, nil
}

// DeleteAPI removes an API; grants naming it stop working.
func (s *Service) DeleteAPI(ctx context.Context, audience string) error {
	if err := checkLookup("API", audience); err != nil {
		return err
	}
	a, err := s.store.GetAPI(ctx, audience)
	if err != nil {
		return err
	}
	if a.BuiltIn {
		return invalid("the built-in API %s cannot be deleted", audience)
	}
	if err := s.store.DeleteAPI(ctx, audience); err != nil {
		return err
	}
	s.audit(ctx, "api.delete", audience, apiView(a), nil)
	s.refresh(ctx, "api "+audience, s.catalog.RefreshAPI(ctx, audience))
	return nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// NewClient is what creating a client takes. ID and Secret are set only
// when importing an existing key from another system; Auth, when its
// Method is not client_secret, makes a client without a secret.
type NewClient struct {
	Name        string
	Tenant      string
	Environment string
	Grants      map[string][]string
	TokenTTL    time.Duration
	Limits      store.Limits
	Auth        store.ClientAuth
	// SecretExpiresIn, when positive, makes the secret expire that long from now.
	SecretExpiresIn time.Duration
	ID              string
	Secret          string
}

// CreateClient adds a client and returns it with its secret in the clear:
// the only time the secret is seen. Generated secrets get a fast hash,
// imported ones bcrypt. A client with a key or certificate method gets no
// secret, and the returned secret is "".
func (s *Service) CreateClient(ctx context.Context, n NewClient) (store.Client, string, error) {
	c := store.Client{
		ID: n.ID, Name: n.Name, Tenant: n.Tenant, Environment: n.Environment,
		Grants: n.Grants, TokenTTL: n.TokenTTL, Limits: n.Limits, CreatedAt: s.now(), UpdatedAt: s.now(),
	}
	if c.ID == "" {
		c.ID = secret.NewClientID()
	}
	if err := checkClientInput(withAuth(c, n.Auth)); err != nil {
		return c, "", err
	}
	if n.SecretExpiresIn < 0 {
		// Not "no expiry": a secret meant to end must not live forever.
		return c, "", invalid("secret_expires_in must not be negative")
	}
	var err error
	if c.Auth, err = checkAuth(n.Auth); err != nil {
		return c, "", err
	}
	plain, err := s.firstSecret(&c, n)
	if err != nil {
		return c, "", err
	}
	if err := s.checkClient(ctx, &c); err != nil {
		return c, "", err
	}
	if err := s.store.CreateClient(ctx, c); err != nil {
		return c, "", err
	}
	s.audit(ctx, "client.create", c.ID, nil, clientView(c, ""))
	s.refresh(ctx, "client "+c.ID, s.catalog.RefreshClient(ctx, c.ID))
	return c, plain, nil
}

// firstSecret gives a new client its secret and returns it in the clear:
// n's imported one (hashed slowly) or a generated one; none at all for a
// client that authenticates without a secret.
func (s *Service) firstSecret(c *store.Client, n NewClient) (string, error) {
	if !c.Auth.UsesSecret() {
		if n.Secret != "" {
			return "", invalid("client_secret: an imported secret is only for auth_method client_secret; a %s client has no secret", c.Auth.Method)
		}
		if n.SecretExpiresIn != 0 {
			return "", invalid("secret_expires_in is only for auth_method client_secret; a %s client has no secret", c.Auth.Method)
		}
		return "", nil
	}
	plain, hash := n.Secret, ""
	if plain == "" {
		plain = secret.New()
		hash = secret.HashFast(plain)
	} else {
		if n.ID == "" {
			return "", invalid("an imported secret needs its client_id")
		}
		if err := secret.ValidateImported(plain); err != nil {
			return "", invalid("%v", err)
		}
		var err error
		if hash, err = secret.HashSlow(plain); err != nil {
			return "", err
		}
	}
	c.Secrets = []store.Secret{newSecret(hash, s.now(), n.SecretExpiresIn)}
	return plain, nil
}

// checkClient validates a client and that what it names exists.
func (s *Service) checkClient(ctx context.Context, c *store.Client) error {
	if c.Tenant == "" {
		return invalid("tenant is required")
	}
	if err := c.Validate(); err != nil {
		return invalid("%v", err)
	}
	if _, err := s.store.GetTenant(ctx, c.Tenant); err != nil {
		return notFoundAsInvalid(err, "tenant %q does not exist", c.Tenant)
	}
	if c.Environment != "" {
		if _, err := s.store.GetEnvironment(ctx, c.Tenant, c.Environment); err != nil {
			return notFoundAsInvalid(err, "environment %s/%s does not exist", c.Tenant, c.Environment)
		}
	}
	return s.checkGrants(ctx, c.Grants)
}

func notFoundAsInvalid(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return invalid(format, args...)
	}
	return err
}

// ClientPatch holds the fields an update may change; nil leaves one alone.
// The auth fields are store.ClientAuth's; "" removes one.
type ClientPatch struct {
	Name     *string
	Grants   *map[string][]string
	TokenTTL *time.Duration
	Disabled *bool
	Limits   *store.Limits

	AuthMethod     *string
	JWKS           *string
	JWKSURI        *string
	TLSSubjectKind *string
	TLSSubject     *string
	RequireDPoP    *bool
}

// UpdateClient changes a client; a disabled client is refused from the next request on.
//
// Changing how the client authenticates follows the rules of checkAuth and
// patchAuth. Moving to a key or certificate method removes the client's
// secrets (the audit event shows them go). Moving back to client_secret
// leaves the client without a secret, so it cannot authenticate until
// RotateSecret gives it one: no secret is made or shown by an update.
func (s *Service) UpdateClient(ctx context.Context, id string, p ClientPatch) (store.Client, error) {
	if err := checkLookup("client", id); err != nil {
		return store.Client{}, err
	}
	if err := checkClientPatch(p); err != nil {
		return store.Client{}, err
	}
	if p.Grants != nil {
		if err := s.checkGrants(ctx, *p.Grants); err != nil {
			return store.Client{}, err
		}
	}
	var before store.Client
	c, err := s.store.UpdateClient(ctx, id, func(c store.Client) (store.Client, error) {
		before = c
		setIf(&c.Name, p.Name)
		setIf(&c.Limits, p.Limits)
		setIf(&c.Grants, p.Grants)
		setIf(&c.TokenTTL, p.TokenTTL)
		setIf(&c.Disabled, p.Disabled)
		if c.Disabled && !before.Disabled {
			// Tokens issued until now must not come back with an enable.
			c.TokensNotBefore = s.now()
		}
		c.Auth = patchAuth(c.Auth, p)
		if p.changesAuth() {
			var err error
			if c.Auth, err = checkAuth(c.Auth); err != nil {
				return c, err
			}
		}
		if !c.Auth.UsesSecret() {
			c.Secrets = nil
		}
		if err := c.Validate(); err != nil {
			return c, invalid("%v", err)
		}
		c.UpdatedAt = s.now()
		return c, nil
	})
	if err != nil {
		return c, err
	}
	kind := "client.update"
	switch {
	case p.Disabled != nil && *p.Disabled && !before.Disabled:
		kind = "client.disable"
	case p.Disabled != nil && !*p.Disabled && before.Disabled:
		kind = "client.enable"
	}
	s.audit(ctx, kind, id, clientView(before, ""), clientView(c, ""))
	s.refresh(ctx, "client "+id, s.catalog.RefreshClient(ctx, id))
	return c, nil
}

// checkGrants checks that every granted API and scope exists.
func (s *Service) checkGrants(ctx context.Context, grants map[string][]string) error {
	for aud, scopes := range grants {
		if err := store.ValidAudience(aud); err != nil {
			return invalid("grant: %v", err)
		}
		a, err := s.store.GetAPI(ctx, aud)
		if err != nil {
			return notFoundAsInvalid(err, "grant names API %q, which does not exist", aud)
		}
		for _, sc := range scopes {
			if !a.HasScope(sc) {
				return invalid("grant on %s names scope %q, which the API does not define (it has: %s)", aud, sc, strings.Join(store.ScopeNames(a.Scopes), " "))
			}
		}
	}
	return nil
}

// DeleteClient removes a client; its next token request is refused.
func (s *Service) DeleteClient(ctx context.Context, id string) error {
	if err := checkLookup("client", id); err != nil {
		return err
	}
	before, err := s.store.GetClient(ctx, id)
	if err != nil {
		return err
	}
	if err := s.checkNoRuleNames(ctx, before); err != nil {
		return err
	}
	if err := s.store.DeleteClient(ctx, id); err != nil {
		return err
	}
	s.revokeClient(ctx, id)
	s.audit(ctx, "client.delete", id, clientView(before, ""), nil)
	s.refresh(ctx, "client "+id, s.catalog.RefreshClient(ctx, id))
	return nil
}

// newSecret is a stored secret record, expiring after expiresIn when positive.
func newSecret(hash string, now time.Time, expiresIn time.Duration) store.Secret {
	sec := store.Secret{ID: secret.RandomAlnum(8), Hash: hash, CreatedAt: now}
	if expiresIn > 0 {
		exp := now.Add(expiresIn)
		sec.ExpiresAt = &exp
	}
	return sec
}

// RotateKeys starts a signing-key rotation through keys (a next key per
// algorithm, signing after the publish delay) and records it.
func (s *Service) RotateKeys(ctx context.Context, keys KeyRotator) ([]store.SigningKey, error) {
	ks, err := keys.Rotate(ctx)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "keys.rotate", "", nil, keyViews(ks))
	return ks, nil
}

// RotateOptions say how a secret rotation treats the secrets it replaces.
type RotateOptions struct {
	// KeepOld is how long the current secret keeps working (0: it ends now).
	KeepOld time.Duration
	// ExpiresIn, when positive, gives the new secret an expiry.
	ExpiresIn time.Duration
	// ExpireOldNow ends, at once, a secret still inside an earlier
	// rotation's keep-old window; without it such a rotation is refused,
	// since callers were promised that secret until its expiry.
	ExpireOldNow bool
}

// RotateSecret issues a new secret; the current one keeps working for
// KeepOld. A client never holds more than two live secrets, so a rotation
// while an earlier one's window runs is refused unless ExpireOldNow.
func (s *Service) RotateSecret(ctx context.Context, id string, o RotateOptions) (store.Client, string, error) {
	keepOld, expiresIn := o.KeepOld, o.ExpiresIn
	if err := checkLookup("client", id); err != nil {
		return store.Client{}, "", err
	}
	if keepOld < 0 || keepOld > 30*24*time.Hour {
		return store.Client{}, "", invalid("keep_old must be between 0 and 720h")
	}
	if expiresIn < 0 {
		return store.Client{}, "", invalid("expires_in must not be negative")
	}
	plain := secret.New()
	now := s.now()
	var before store.Client
	c, err := s.store.UpdateClient(ctx, id, func(c store.Client) (store.Client, error) {
		before = c
		if !c.Auth.UsesSecret() {
			return c, invalid("client %s authenticates with %s and holds no secret: rotate-secret is only for client_secret clients (change its keys or subject with update)", c.ID, c.Auth.Method)
		}
		var live []store.Secret
		for _, old := range c.Secrets {
			if old.Live(now) {
				live = append(live, old)
			}
		}
		if len(live) >= store.MaxSecrets && keepOld > 0 && !o.ExpireOldNow {
			until := "its own expiry"
			if e := live[0].ExpiresAt; e != nil {
				until = e.UTC().Format(time.RFC3339)
			}
			return c, invalid("client %s is inside a rotation: its oldest secret works until %s, as its callers were promised; rotate again after that, or with expire_old_now (--expire-old-now) to end that secret at once",
				c.ID, until)
		}
		var keep []store.Secret
		for _, old := range live {
			end := now.Add(keepOld)
			if old.ExpiresAt == nil || old.ExpiresAt.After(end) {
				old.ExpiresAt = &end
			}
			if keepOld > 0 {
				keep = append(keep, old)
			}
		}
		// Keep the newest old secret only: rotation leaves two live at most.
		if len(keep) > store.MaxSecrets-1 {
			keep = keep[len(keep)-(store.MaxSecrets-1):]
		}
		c.Secrets = append(keep, newSecret(secret.HashFast(plain), now, expiresIn))
		c.UpdatedAt = now
		return c, nil
	})
	if err != nil {
		return c, "", err
	}
	s.audit(ctx, "client.rotate_secret", id, clientView(before, ""), clientView(c, ""))
	s.refresh(ctx, "client "+id, s.catalog.RefreshClient(ctx, id))
	return c, plain, nil
}
