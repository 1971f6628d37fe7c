package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestCredentialsNotRedirected: a gatehouse URL that answers 307 or 308
// does not get the gateway's client_secret sent on to Location; the call
// fails saying what gatehouse answered.
func TestCredentialsNotRedirected(t *testing.T) {
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	defer elsewhere.Close()
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+r.URL.Path, status)
		}))
		gh := &gatehouseClient{base: redirector.URL, clientID: "gw", secret: "gatehouse_notarealsecret0002",
			http: credentialedClient(http.DefaultTransport, 5*time.Second)}
		_, err := gh.revocations(t.Context(), 0)
		redirector.Close()
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("answered %d", status)) || strings.Contains(err.Error(), "notarealsecret") {
			t.Errorf("%d: got %v, want an error without the secret", status, err)
		}
		if n := reached.Load(); n != 0 {
			t.Fatalf("%d: the redirect target got %d requests, want none", status, n)
		}
	}
}
