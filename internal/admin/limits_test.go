package admin

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
)

// TestLimitModes: a tenant's and a client's limits take a mode, enforce
// or log-only, and refuse any other.
func TestLimitModes(t *testing.T) {
	w := newWorld(t)
	c, _ := w.client("limited", nil)
	tests := []struct {
		name    string
		limits  store.Limits
		want    error
		mention string
	}{
		{"log-only", store.Limits{QuotaHour: 5, Mode: store.LimitLogOnly}, nil, ""},
		{"enforce", store.Limits{QuotaHour: 5, Mode: store.LimitEnforce}, nil, ""},
		{"no mode is enforce", store.Limits{QuotaDay: 5}, nil, ""},
		{"an unknown mode", store.Limits{QuotaHour: 5, Mode: "lax"}, ErrInvalid, "limits.mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ten, err := w.svc.SetTenantLimits(t.Context(), "acme", tt.limits)
			checkErr(t, err, tt.want, tt.mention)
			if tt.want == nil && ten.Limits != tt.limits {
				t.Errorf("tenant limits: got %+v, want %+v", ten.Limits, tt.limits)
			}
			got, err := w.svc.UpdateClient(t.Context(), c.ID, ClientPatch{Limits: &tt.limits})
			checkErr(t, err, tt.want, tt.mention)
			if tt.want == nil && got.Limits != tt.limits {
				t.Errorf("client limits: got %+v, want %+v", got.Limits, tt.limits)
			}
		})
	}
}
