package console_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestTrustsInBrowser: a trust and its rule made in the console, in its
// own browser session (the main walk has its own time budget). The
// tenants page's list of trusts is checked by TestTrustForms.
func TestTrustsInBrowser(t *testing.T) {
	g := startGatehouse(t)
	clientID := seedOverAdminAPI(t, g)
	ctx := newBrowser(t) // its time budget starts here, after the node's
	signIn(t, ctx, g)
	createTrust(t, ctx, g, clientID)
}

// seedOverAdminAPI makes tenant acme, an API and a client of acme through
// the admin API, and returns the client's id.
func seedOverAdminAPI(t *testing.T, g *gatehouse) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {g.creds.ClientID},
		"client_secret": {g.creds.ClientSecret}, "audience": {g.creds.Audience}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	call(t, "POST", g.url+"/oauth/token", "", "application/x-www-form-urlencoded", form.Encode(), &tok)
	call(t, "POST", g.url+"/admin/v1/tenants", tok.AccessToken, "application/json", `{"id":"acme"}`, nil)
	call(t, "POST", g.url+"/admin/v1/apis", tok.AccessToken, "application/json", `{"audience":"https://api.acme.test","scopes":[{"name":"orders:read"}]}`, nil)
	var c struct {
		ClientID string `json:"client_id"`
	}
	call(t, "POST", g.url+"/admin/v1/clients", tok.AccessToken, "application/json",
		`{"tenant":"acme","name":"billing export","grants":{"https://api.acme.test":["orders:read"]}}`, &c)
	return c.ClientID
}

// call sends one request and decodes its JSON answer into out (nil: none),
// failing t unless it succeeds.
func call(t *testing.T, method, target, bearer, contentType, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: got status %d, want success", method, target, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// pemPublicKey is a fresh EC public key as `openssl pkey -pubout` writes it.
func pemPublicKey(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// createTrust makes a trust for acme with pasted static keys, then adds a
// rule mapping it to clientID: first with an expression that does not
// compile, which the form marks, then a good one.
func createTrust(t *testing.T, ctx context.Context, g *gatehouse, clientID string) {
	t.Helper()
	trusts := "/console/tenants/acme/trusts"
	do(t, ctx, "create a trust", chromedp.Navigate(g.url+trusts),
		chromedp.SendKeys(chromedp.ID("trust_name"), "prod-cluster"),
		chromedp.SendKeys(chromedp.ID("issuer"), "https://kubernetes.default.svc"),
		chromedp.SetValue(chromedp.ID("jwks"), pemPublicKey(t)), chromedp.SetValue(chromedp.ID("audiences"), "gatehouse"),
		chromedp.SendKeys(chromedp.ID("max_age"), "1h"), submit(trusts), waitText("p", "Trust created."))
	rules := trusts + "/prod-cluster/rules"
	do(t, ctx, "a rule that does not compile",
		chromedp.SendKeys(chromedp.ID("rule_name"), "billing-export"), chromedp.SetValue(chromedp.ID("client"), clientID),
		chromedp.SetValue(chromedp.ID("match"), `claims.sub == "system:serviceaccount:billing:export`),
		submit(rules), chromedp.WaitVisible(chromedp.ID("match-error")), shot("trust-rule-error"))
	do(t, ctx, "add the rule",
		chromedp.SetValue(chromedp.ID("match"), `claims.sub == "system:serviceaccount:billing:export"`),
		chromedp.SetValue(chromedp.ID("ttl"), "10m"), submit(rules), waitText("p", "Rule billing-export added."), shot("trust"))
}
