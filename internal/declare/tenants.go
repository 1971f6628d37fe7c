package declare

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/store"
)

// tenantSpec is a tenant in a document. A tenant takes quotas, not a
// rate limit.
type tenantSpec struct {
	ID     string  `yaml:"id" json:"id"`
	Name   string  `yaml:"name,omitempty" json:"name,omitempty"`
	Limits *Limits `yaml:"limits,omitempty" json:"limits,omitempty"`
}

func (t tenantSpec) key() string { return t.ID }
func (t tenantSpec) refs() []ref { return nil }

func (t tenantSpec) fields() []field {
	return []field{
		{name: "name", value: t.Name, fixed: "gatehouse cannot rename a tenant yet"},
		{name: "limits", value: t.Limits.String()},
	}
}

var tenants = &kindOf[tenantSpec]{
	one: "tenant", many: "tenants",
	check: func(t tenantSpec) (tenantSpec, error) {
		if !store.ValidSlug(t.ID) {
			return t, errors.New("id must be 1-63 lower-case letters, digits or '-'")
		}
		if t.Name == "" {
			t.Name = t.ID
		}
		if l := t.Limits; l != nil && (l.RatePerSecond != 0 || l.QuotaHour < 0 || l.QuotaDay < 0) {
			return t, errors.New("limits: a tenant takes quota_hour and quota_day (not negative), not a rate limit")
		}
		t.Limits = nonZero(t.Limits)
		return t, nil
	},
	list: func(ctx context.Context, a Admin) ([]tenantSpec, error) {
		var ts []store.Tenant
		if err := a.Do(ctx, "GET", "/admin/v1/tenants", nil, &ts); err != nil {
			return nil, err
		}
		out := make([]tenantSpec, len(ts))
		for i, t := range ts {
			out[i] = tenantSpec{ID: t.ID, Name: t.Name, Limits: nonZero(&Limits{QuotaHour: t.Limits.QuotaHour, QuotaDay: t.Limits.QuotaDay, Mode: t.Limits.Mode})}
		}
		return out, nil
	},
	create: func(ctx context.Context, a Admin, t tenantSpec) ([]Result, error) {
		if err := a.Do(ctx, "POST", "/admin/v1/tenants", map[string]string{"id": t.ID, "name": t.Name}, nil); err != nil {
			return nil, err
		}
		if t.Limits == nil {
			return nil, nil
		}
		return nil, setTenantLimits(ctx, a, t)
	},
	update: func(ctx context.Context, a Admin, want, _ tenantSpec) ([]Result, error) {
		return nil, setTenantLimits(ctx, a, want)
	},
}

func setTenantLimits(ctx context.Context, a Admin, t tenantSpec) error {
	var l store.Limits
	if t.Limits != nil {
		l = store.Limits{QuotaHour: t.Limits.QuotaHour, QuotaDay: t.Limits.QuotaDay, Mode: t.Limits.Mode}
	}
	return a.Do(ctx, "PATCH", "/admin/v1/tenants"+adminclient.Path(t.ID), map[string]any{"limits": l}, nil)
}

// environmentSpec is an environment in a document. Its api_key is made by
// the server, printed when created, and not part of the document.
type environmentSpec struct {
	Tenant string `yaml:"tenant" json:"tenant"`
	ID     string `yaml:"id" json:"id"`
}

func (e environmentSpec) key() string     { return e.Tenant + "/" + e.ID }
func (e environmentSpec) fields() []field { return nil }

func (e environmentSpec) refs() []ref {
	return []ref{{kind: "tenant", key: e.Tenant, field: "tenant"}}
}

var environments = &kindOf[environmentSpec]{
	one: "environment", many: "environments",
	check: func(e environmentSpec) (environmentSpec, error) {
		if !store.ValidSlug(e.Tenant) || !store.ValidSlug(e.ID) {
			return e, errors.New("tenant and id must each be 1-63 lower-case letters, digits or '-'")
		}
		return e, nil
	},
	list: func(ctx context.Context, a Admin) ([]environmentSpec, error) {
		var es []store.Environment
		if err := a.Do(ctx, "GET", "/admin/v1/environments", nil, &es); err != nil {
			return nil, err
		}
		out := make([]environmentSpec, len(es))
		for i, e := range es {
			out[i] = environmentSpec{Tenant: e.Tenant, ID: e.ID}
		}
		return out, nil
	},
	create: func(ctx context.Context, a Admin, e environmentSpec) ([]Result, error) {
		var got store.Environment
		if err := a.Do(ctx, "POST", "/admin/v1/environments", map[string]string{"tenant": e.Tenant, "id": e.ID}, &got); err != nil {
			return nil, err
		}
		return []Result{{Name: "api_key", Value: got.APIKey}}, nil
	},
}
