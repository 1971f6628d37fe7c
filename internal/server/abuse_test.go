package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/store"
)

const platform = "https://api.sitecorecloud.io"

func (h *harness) tokenStatus(c admin.ClientView, secret string) (int, http.Header, tokenResponse) {
	h.t.Helper()
	status, header, body := h.post("/oauth/token", "application/x-www-form-urlencoded",
		form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", secret, "audience", platform), nil)
	var resp tokenResponse
	json.Unmarshal(body, &resp)
	h.secrets = append(h.secrets, resp.AccessToken)
	return status, header, resp
}

func TestSecretRotationOverlapAndExpiry(t *testing.T) {
	clock := newFakeClock()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	h := startOpts(t, cfg, nil, Options{Now: clock.Now})
	h.seedCatalog()
	c := h.newClient(admin.ClientInput{Name: ptr("rotating"), Tenant: "acme",
		Grants: &map[string][]string{platform: {"cdp.audience_exports:r"}}})
	old := c.ClientSecret
	var rotated admin.ClientView
	h.do("POST", "/admin/v1/clients/"+c.ClientID+"/rotate-secret", map[string]string{"keep_old": "1h"}, &rotated)
	h.secrets = append(h.secrets, rotated.ClientSecret)
	if len(rotated.Secrets) != 2 || rotated.Secrets[0].ExpiresAt == nil || !rotated.Secrets[0].ExpiresAt.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("after rotation: got secrets %+v, want the old one expiring in 1h and a new one", rotated.Secrets)
	}
	steps := []struct {
		advance      time.Duration
		oldOK, newOK bool
	}{
		{0, true, true},
		{59 * time.Minute, true, true},
		{2 * time.Minute, false, true},
	}
	for _, s := range steps {
		clock.Add(s.advance)
		for _, sec := range []struct {
			name, secret string
			want         bool
		}{{"old", old, s.oldOK}, {"new", rotated.ClientSecret, s.newOK}} {
			status, _, _ := h.tokenStatus(c, sec.secret)
			if got := status == 200; got != sec.want {
				t.Errorf("at +%v the %s secret: got %d, want success %v", clock.Now().Sub(rotated.Secrets[1].CreatedAt), sec.name, status, sec.want)
			}
		}
	}
	t.Run("a secret with its own expiry", func(t *testing.T) {
		e := h.newClient(admin.ClientInput{Name: ptr("expiring"), Tenant: "acme", SecretExpiresIn: ptr(admin.Duration(24 * time.Hour)),
			Grants: &map[string][]string{platform: {"cdp.audience_exports:r"}}})
		if s, _, _ := h.tokenStatus(e, e.ClientSecret); s != 200 {
			t.Errorf("before expiry: got %d", s)
		}
		clock.Add(25 * time.Hour)
		if s, _, _ := h.tokenStatus(e, e.ClientSecret); s != 401 {
			t.Errorf("after expiry: got %d, want 401", s)
		}
	})
}

func TestDisableTakesEffectAtOnce(t *testing.T) {
	h := start(t, nil)
	h.seedCatalog()
	c := h.newClient(admin.ClientInput{Name: ptr("x"), Tenant: "acme", Grants: &map[string][]string{platform: {}}})
	for _, step := range []struct {
		action string
		want   int
	}{{"", 200}, {"disable", 401}, {"enable", 200}} {
		if step.action != "" {
			h.do("POST", "/admin/v1/clients/"+c.ClientID+"/"+step.action, nil, nil)
		}
		if s, _, _ := h.tokenStatus(c, c.ClientSecret); s != step.want {
			t.Errorf("after %q: got %d, want %d", step.action, s, step.want)
		}
	}
}

func TestFailedAuthThrottle(t *testing.T) {
	clock := newFakeClock()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	h := startOpts(t, cfg, nil, Options{Now: clock.Now})
	h.seedCatalog()
	c := h.newClient(admin.ClientInput{Name: ptr("victim"), Tenant: "acme", Grants: &map[string][]string{platform: {}}})
	for i := 0; i < 10; i++ {
		if s, _, _ := h.tokenStatus(c, "gatehouse_guess"); s != 401 {
			t.Fatalf("guess %d: got %d, want 401", i, s)
		}
	}
	s, header, _ := h.tokenStatus(c, "gatehouse_guess")
	if s != 429 || header.Get("Retry-After") != "1" {
		t.Errorf("11th guess: got %d Retry-After %q, want 429 and 1", s, header.Get("Retry-After"))
	}
	if s, _, _ := h.tokenStatus(c, c.ClientSecret); s != 429 {
		t.Errorf("the right secret during the backoff: got %d, want 429", s)
	}
	clock.Add(1100 * time.Millisecond)
	if s, _, _ := h.tokenStatus(c, c.ClientSecret); s != 200 {
		t.Errorf("the right secret after the backoff: got %d, want 200", s)
	}
	// Failures going on double the backoff.
	for i := 0; i < 10; i++ {
		h.tokenStatus(c, "gatehouse_guess")
	}
	if _, header, _ := h.tokenStatus(c, c.ClientSecret); header.Get("Retry-After") != "2" {
		t.Errorf("second backoff: Retry-After %q, want 2", header.Get("Retry-After"))
	}
}

func TestRateLimitAndQuotas(t *testing.T) {
	clock := newFakeClock()
	clock.t = clock.t.Truncate(time.Hour).Add(10 * time.Minute)
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	h := startOpts(t, cfg, nil, Options{Now: clock.Now})
	h.seedCatalog()
	grants := &map[string][]string{platform: {}}
	limited := h.newClient(admin.ClientInput{Name: ptr("limited"), Tenant: "acme", Grants: grants,
		Limits: &store.Limits{RatePerSecond: 5, QuotaHour: 8}})
	free := h.newClient(admin.ClientInput{Name: ptr("free"), Tenant: "other", Grants: grants})

	for i := 0; i < 5; i++ {
		s, header, _ := h.tokenStatus(limited, limited.ClientSecret)
		if s != 200 || header.Get("RateLimit-Limit") != "5" || header.Get("RateLimit-Remaining") != strconv.Itoa(4-i) {
			t.Errorf("request %d: got %d limit %q remaining %q, want 200, 5, %d", i, s, header.Get("RateLimit-Limit"), header.Get("RateLimit-Remaining"), 4-i)
		}
	}
	s, header, _ := h.tokenStatus(limited, limited.ClientSecret)
	if s != 429 || header.Get("Retry-After") == "" || header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("6th in a second: got %d Retry-After %q remaining %q, want 429", s, header.Get("Retry-After"), header.Get("RateLimit-Remaining"))
	}
	clock.Add(time.Second)
	for i := 0; i < 3; i++ {
		if s, header, _ := h.tokenStatus(limited, limited.ClientSecret); s != 200 || (i == 2 && header.Get("RateLimit-Limit") != "8") {
			t.Errorf("next second %d: got %d limit %q", i, s, header.Get("RateLimit-Limit"))
		}
	}
	s, header, _ = h.tokenStatus(limited, limited.ClientSecret)
	if s != 429 || header.Get("RateLimit-Limit") != "8" || header.Get("RateLimit-Reset") != strconv.Itoa(50*60-1) {
		t.Errorf("over the hourly quota: got %d limit %q reset %q, want 429, 8, %d", s, header.Get("RateLimit-Limit"), header.Get("RateLimit-Reset"), 50*60-1)
	}
	if s, header, _ := h.tokenStatus(free, free.ClientSecret); s != 200 || header.Get("RateLimit-Limit") != "" {
		t.Errorf("a client without limits: got %d and RateLimit-Limit %q, want 200 and no header", s, header.Get("RateLimit-Limit"))
	}
	clock.Add(time.Hour)
	if s, _, _ := h.tokenStatus(limited, limited.ClientSecret); s != 200 {
		t.Errorf("next hour: got %d, want 200", s)
	}

	t.Run("rejections are counted by limit", func(t *testing.T) {
		resp, err := http.Get(h.ts.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`gatehouse_quota_rejections_total{limit="rate limit"} 1`, `gatehouse_quota_rejections_total{limit="hourly quota"} 1`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
	t.Run("tenant quota", func(t *testing.T) {
		h.do("PATCH", "/admin/v1/tenants/other", map[string]any{"limits": map[string]int{"quota_day": 2}}, nil)
		second := h.newClient(admin.ClientInput{Name: ptr("free2"), Tenant: "other", Grants: grants})
		clock.Add(24 * time.Hour)
		codes := []int{}
		for _, c := range []admin.ClientView{free, second, free} {
			s, _, _ := h.tokenStatus(c, c.ClientSecret)
			codes = append(codes, s)
		}
		if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
			t.Errorf("two clients sharing a tenant quota of 2: got %v, want [200 200 429]", codes)
		}
	})
}

func TestReuseWindow(t *testing.T) {
	clock := newFakeClock()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	h := startOpts(t, cfg, nil, Options{Now: clock.Now})
	h.seedCatalog()
	h.do("PATCH", "/admin/v1/apis/"+urlSeg(platform), map[string]any{"reuse_window": "1m"}, nil)
	c := h.newClient(admin.ClientInput{Name: ptr("forgetful"), Tenant: "acme", Grants: &map[string][]string{platform: {"cdp.audience_exports:r"}}})
	_, _, first := h.tokenStatus(c, c.ClientSecret)
	clock.Add(30 * time.Second)
	_, _, second := h.tokenStatus(c, c.ClientSecret)
	if second.AccessToken != first.AccessToken || second.ExpiresIn != first.ExpiresIn-30 {
		t.Errorf("within the window: got a new token or expires_in %d, want the same token with %d", second.ExpiresIn, first.ExpiresIn-30)
	}
	clock.Add(31 * time.Second)
	_, _, third := h.tokenStatus(c, c.ClientSecret)
	if third.AccessToken == first.AccessToken || third.ExpiresIn != 86400 {
		t.Errorf("after the window: got the old token or expires_in %d, want a fresh one", third.ExpiresIn)
	}
	// A narrower scope is another token.
	status, _, body := h.post("/oauth/token", "application/x-www-form-urlencoded", form("grant_type", "client_credentials", "client_id", c.ClientID,
		"client_secret", c.ClientSecret, "audience", platform, "scope", ""), nil)
	var fourth tokenResponse
	json.Unmarshal(body, &fourth)
	h.secrets = append(h.secrets, fourth.AccessToken)
	if status != 200 || fourth.AccessToken != third.AccessToken {
		t.Errorf("an empty scope asks for the same grant: got %d and another token", status)
	}
}
