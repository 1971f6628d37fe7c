package adminclient

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
)

// TestNoRedirectCarriesTheAdminToken: an admin API that redirects
// elsewhere does not get the admin token sent on; the call fails with
// the redirect's status.
func TestNoRedirectCarriesTheAdminToken(t *testing.T) {
	var leaked atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
	}))
	defer elsewhere.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token":"admin-token-0001","token_type":"Bearer","expires_in":900}`))
			return
		}
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	c := New(t.Context(), api.URL, admin.CredentialsFile{ClientID: "ops", ClientSecret: "s", TokenURL: api.URL + "/oauth/token", Audience: "urn:gatehouse:admin"})
	err := c.Do(t.Context(), "GET", "/admin/v1/tenants", nil, nil)
	if e, ok := err.(*Error); !ok || e.Status != http.StatusTemporaryRedirect {
		t.Errorf("got %v, want an Error with status 307", err)
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("the redirect target got the admin token %d times, want never", n)
	}
}
