package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

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

// TestDisableTakesEffectAtOnce: the admin API and the token endpoint of a
// node share one catalog, so a client disabled there is refused from the
// next request on.
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

// TestQuotaRejectionsCounted: the node's observer reads which limit
// refused a token from the error's cause and counts it by that limit (the
// limits themselves are tested in package token).
func TestQuotaRejectionsCounted(t *testing.T) {
	clock := newFakeClock()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	h := startOpts(t, cfg, nil, Options{Now: clock.Now})
	h.seedCatalog()
	limited := h.newClient(admin.ClientInput{Name: ptr("limited"), Tenant: "acme", Grants: &map[string][]string{platform: {}},
		Limits: &store.Limits{RatePerSecond: 1}})
	codes := []int{}
	for range 2 {
		s, _, _ := h.tokenStatus(limited, limited.ClientSecret)
		codes = append(codes, s)
	}
	if codes[0] != 200 || codes[1] != 429 {
		t.Fatalf("two requests in one second under a limit of one: got %v, want [200 429]", codes)
	}
	resp, err := http.Get(h.ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `gatehouse_quota_rejections_total{limit="rate limit"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}
