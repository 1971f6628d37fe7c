package console_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/secret"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// screenshots is where the test leaves pictures of the main pages.
var screenshots = filepath.Join("testdata", "screenshots")

// gatehouse is a real node on a real listener.
type gatehouse struct {
	url   string
	creds admin.CredentialsFile
	logs  *logging.Buffer
}

// startGatehouse runs a node, console included.
func startGatehouse(t *testing.T) *gatehouse {
	t.Helper()
	g := servertest.Start(t, nil, server.Options{})
	return &gatehouse{url: g.URL, creds: g.Creds, logs: g.Logs}
}

// newBrowser starts Debian's chromium, headless, with a fresh profile.
// Without chromium the test fails under CI=true and is skipped elsewhere.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is missing at %s: install it with apt-get install -y chromium", chromiumPath)
		}
		t.Skipf("chromium is missing at %s (apt-get install -y chromium); with CI=true this test fails instead", chromiumPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // generous: machines running many tests at once are slow
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// do runs browser steps and fails the test, naming the step, on error.
func do(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// read runs one browser action that returns a value.
func read[T any](t *testing.T, ctx context.Context, step string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	return v
}

// shot saves a full-page PNG of the current page as testdata/screenshots/name.png.
func shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(screenshots, name+".png"), png, 0o644)
	})
}

// submit clicks the submit button of the form that posts to action.
func submit(action string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(`form[action="` + action + `"] button[type=submit]`))
}

// waitText waits for an element holding text.
func waitText(tag, text string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(`//` + tag + `[contains(., "` + text + `")]`)
}

// tokenStatus asks the token endpoint for a token, as a client would.
func tokenStatus(t *testing.T, base, clientID, secret, audience string) int {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "audience": {audience}}
	resp, err := http.PostForm(base+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestConsoleInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	g := startGatehouse(t)
	if err := os.MkdirAll(screenshots, 0o755); err != nil {
		t.Fatal(err)
	}
	const audience = "https://api.acme.test"
	signIn(t, ctx, g)
	createCatalog(t, ctx, g, audience)
	clientID, secret1 := createClient(t, ctx, g, audience)
	if got := tokenStatus(t, g.url, clientID, secret1, audience); got != http.StatusOK {
		t.Fatalf("token with the new secret: got status %d, want 200", got)
	}

	createKeyClient(t, ctx, g, audience)

	do(t, ctx, "rotate the secret", chromedp.Navigate(g.url+"/console/clients/"+clientID),
		chromedp.SetValue(chromedp.ID("keep_old"), "24h"), submit("/console/clients/"+clientID+"/rotate"),
		waitText("h1", "Secret rotated"), shot("secret-rotated"))
	secret2 := read(t, ctx, "read the new secret", chromedp.Text(chromedp.ID("client-secret")))
	for _, s := range []struct{ name, secret string }{{"new", secret2}, {"old, kept 24h", secret1}} {
		if got := tokenStatus(t, g.url, clientID, s.secret, audience); got != http.StatusOK {
			t.Errorf("token with the %s secret: got status %d, want 200", s.name, got)
		}
	}

	do(t, ctx, "disable the client", chromedp.Navigate(g.url+"/console/clients/"+clientID),
		submit("/console/clients/"+clientID+"/disable"), waitText("p", "Client disabled"), shot("client"))
	if got := tokenStatus(t, g.url, clientID, secret2, audience); got != http.StatusUnauthorized {
		t.Errorf("token for a disabled client: got status %d, want 401", got)
	}

	do(t, ctx, "clients", chromedp.Navigate(g.url+"/console/clients"), waitText("td", "CI pipeline"), shot("clients"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), shot("clients-phone"),
		chromedp.Navigate(g.url+"/console/clients/"+clientID), shot("client-phone"),
		chromedp.Navigate(g.url+"/console/audit"), shot("audit-phone"), chromedp.EmulateViewport(1280, 900))
	do(t, ctx, "keys", chromedp.Navigate(g.url+"/console/keys"), submit("/console/keys/rotate"),
		waitText("p", "New keys were added"), shot("keys"))
	do(t, ctx, "audit", chromedp.Navigate(g.url+"/console/audit"), waitText("h1", "Audit log"), shot("audit"))
	do(t, ctx, "sign out", submit("/console/signout"), waitText("p", "You are signed out."))

	for _, s := range []string{g.creds.ClientSecret, secret1, secret2} {
		if strings.Contains(g.logs.String(), s) {
			t.Errorf("a secret appeared in the server log: %.8s...", s)
		}
	}
}

// signIn signs in with the bootstrap admin credentials file, with the
// keyboard alone: type, Tab, type, Enter.
func signIn(t *testing.T, ctx context.Context, g *gatehouse) {
	t.Helper()
	do(t, ctx, "open the console", chromedp.Navigate(g.url+"/console/"), chromedp.WaitVisible(chromedp.ID("client_id")), shot("signin"))
	do(t, ctx, "sign in", chromedp.KeyEvent(g.creds.ClientID+"\t"+g.creds.ClientSecret+"\r"),
		waitText("h1", "Overview"), shot("home"))
}

// createCatalog makes tenant acme, its environment qa and an API with two scopes.
func createCatalog(t *testing.T, ctx context.Context, g *gatehouse, audience string) {
	t.Helper()
	do(t, ctx, "create a tenant", chromedp.Navigate(g.url+"/console/tenants"),
		chromedp.SendKeys(chromedp.ID("tenant_id"), "acme"), chromedp.SendKeys(chromedp.ID("tenant_name"), "Acme Corp"),
		submit("/console/tenants"), waitText("p", "Tenant acme created."))
	do(t, ctx, "create an environment",
		chromedp.SetValue(chromedp.ID("env_tenant"), "acme"), chromedp.SendKeys(chromedp.ID("env_id"), "qa"),
		submit("/console/environments"), waitText("p", "Its api_key"), shot("tenants"))
	do(t, ctx, "API form with an error", chromedp.Navigate(g.url+"/console/apis/new"),
		chromedp.SendKeys(chromedp.ID("audience"), audience), chromedp.SendKeys(chromedp.ID("name"), "Orders API"),
		chromedp.SetValue(chromedp.ID("scopes"), "orders:read Read orders\norders:write Create and change orders"),
		chromedp.SetValue(chromedp.ID("ttl"), "10s"), chromedp.SendKeys(chromedp.ID("service"), "orders"),
		submit("/console/apis/new"), chromedp.WaitVisible(chromedp.ID("ttl-error")), shot("api-form"))
	do(t, ctx, "create the API",
		chromedp.SetValue(chromedp.ID("ttl"), "15m"), submit("/console/apis/new"),
		waitText("p", "API "+audience+" created."), shot("apis"))
}

// createClient makes a client with both scopes of audience and reads its
// id and secret from the page, clicking the copy button on the way.
func createClient(t *testing.T, ctx context.Context, g *gatehouse, audience string) (clientID, secretText string) {
	t.Helper()
	do(t, ctx, "create a client", chromedp.Navigate(g.url+"/console/clients/new"),
		chromedp.SendKeys(chromedp.ID("name"), "CI pipeline"),
		chromedp.SetValue(chromedp.ID("tenant"), "acme"), chromedp.SetValue(chromedp.ID("environment"), "acme/qa"),
		chromedp.Click(chromedp.CSS(`input[value="`+audience+` orders:read"]`)),
		chromedp.Click(chromedp.CSS(`input[value="`+audience+` orders:write"]`)),
		shot("client-form"),
		submit("/console/clients/new"), chromedp.WaitVisible(chromedp.ID("client-secret")))
	clientID = read(t, ctx, "read the client id", chromedp.Text(chromedp.ID("client-id")))
	secretText = read(t, ctx, "read the secret", chromedp.Text(chromedp.ID("client-secret")))
	if !strings.HasPrefix(secretText, secret.Prefix) || len(secretText) < 40 {
		t.Fatalf("got secret %.6s... (%d characters), want a generated gatehouse secret", secretText, len(secretText))
	}
	copyButton(t, ctx, g.url)
	do(t, ctx, "screenshot", shot("client-created"))
	return clientID, secretText
}

// copyButton clicks the secret's copy button and checks that it answered.
func copyButton(t *testing.T, ctx context.Context, origin string) {
	t.Helper()
	_, _ = chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-write"}, Setting: browser.PermissionSettingGranted, Origin: origin,
	})
	sel := `button[data-copy="client-secret"]`
	do(t, ctx, "click the copy button", chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	label := read(t, ctx, "wait for the copy button", chromedp.Poll[string](
		`(function(){ var t = document.querySelector('`+sel+`').textContent; return t !== "Copy" ? t : false; })()`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if label != "Copied" && !strings.HasPrefix(label, "Selected") {
		t.Errorf("got copy button label %q, want Copied", label)
	}
}

// createKeyClient makes a client that signs JWTs with its own key and
// requires DPoP, pasting a JWKS into the form, and checks that its page
// shows the key and no secret.
func createKeyClient(t *testing.T, ctx context.Context, g *gatehouse, audience string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "deploy-2026", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "create a key client", chromedp.Navigate(g.url+"/console/clients/new"),
		chromedp.SendKeys(chromedp.ID("name"), "Deploy bot"), chromedp.SetValue(chromedp.ID("tenant"), "acme"),
		chromedp.Click(chromedp.CSS(`input[value="`+audience+` orders:read"]`)),
		chromedp.SetValue(chromedp.ID("auth_method"), "private_key_jwt"), chromedp.SetValue(chromedp.ID("jwks"), string(jwks)),
		chromedp.Click(chromedp.ID("require_dpop")), shot("client-form-keys"),
		submit("/console/clients/new"), waitText("p", "so it has no secret to copy"), shot("client-keys"))
	keys := read(t, ctx, "read the key ids", chromedp.Text(chromedp.ID("auth-keys")))
	dpop := read(t, ctx, "read the DPoP requirement", chromedp.Text(chromedp.ID("auth-dpop")))
	if !strings.Contains(keys, "deploy-2026") || dpop != "required" {
		t.Errorf("the key client's page: got keys %q and DPoP %q, want deploy-2026 and required", keys, dpop)
	}
}
