package jwks

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestOutsideClientRefusesInternalAddresses: a jwks_uri that resolves to
// this host (or a cloud metadata address) is not fetched.
func TestOutsideClientRefusesInternalAddresses(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the internal server was reached: %s", r.URL)
	}))
	defer ts.Close()
	c := OutsideClient(time.Second)
	for _, u := range []string{ts.URL, strings.Replace(ts.URL, "127.0.0.1", "localhost", 1), "http://169.254.169.254/latest/meta-data/", "http://[::1]:1/"} {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET %s: got %d, want a refusal", u, resp.StatusCode)
			continue
		}
		if !strings.Contains(err.Error(), "refusing to fetch") {
			t.Errorf("GET %s: got %v, want it refused before connecting", u, err)
		}
	}
	for _, addr := range []string{"10.1.2.3:443", "192.168.0.10:443", "203.0.113.9:443"} {
		if err := refuseInternal("tcp", addr, nil); err != nil {
			t.Errorf("%s: got %v, want private and public networks reachable", addr, err)
		}
	}
}
