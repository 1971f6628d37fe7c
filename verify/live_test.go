package verify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
	"github.com/gatehouse/gatehouse/verify"
)

// liveIssuer is a real gatehouse in httptest with one API and one client.
type liveIssuer struct {
	srv    *server.Server
	url    string
	admin  *adminclient.Client
	issuer string
	id     string
	secret string
}

const liveAudience = "https://api.example.io"

func startLive(t *testing.T, issuer string, now func() time.Time) *liveIssuer {
	t.Helper()
	g := servertest.Start(t, func(c *config.Config) {
		c.Issuer, c.KeyPublishDelay = issuer, 0
	}, server.Options{Now: now})
	l := &liveIssuer{srv: g.Server, url: g.URL, admin: g.Admin(), issuer: g.Config.Issuer}
	l.do(t, "POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	l.do(t, "POST", "/admin/v1/apis", map[string]any{"audience": liveAudience, "token_ttl": "1h",
		"scopes": []map[string]string{{"name": "read"}, {"name": "write"}}}, nil)
	l.do(t, "POST", "/admin/v1/apis", map[string]any{"audience": "https://other.example.io"}, nil)
	var c admin.ClientView
	l.do(t, "POST", "/admin/v1/clients", map[string]any{"name": "reader", "tenant": "acme",
		"grants": map[string][]string{liveAudience: {"read"}, "https://other.example.io": {}}}, &c)
	l.id, l.secret = c.ClientID, c.ClientSecret
	return l
}

func (l *liveIssuer) do(t *testing.T, method, path string, in, out any) {
	t.Helper()
	if err := l.admin.Do(context.Background(), method, path, in, out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

func (l *liveIssuer) token(t *testing.T, audience string) string {
	t.Helper()
	resp, err := http.PostForm(l.url+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {l.id}, "client_secret": {l.secret}, "audience": {audience}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 {
		t.Fatalf("token: got %d", resp.StatusCode)
	}
	return out.AccessToken
}

// forge re-signs a live token's payload with HS256 using key as the secret.
func forge(tok string, header map[string]any, key []byte) string {
	h, _ := json.Marshal(header)
	parts := strings.Split(tok, ".")
	input := base64.RawURLEncoding.EncodeToString(h) + "." + parts[1]
	if header["alg"] == "none" {
		return input + "."
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// TestAgainstLiveGatehouse checks the verify package against tokens a
// running gatehouse issued, and against forgeries made from them.
func TestAgainstLiveGatehouse(t *testing.T) {
	live := startLive(t, "", nil)
	v, err := verify.New(context.Background(), verify.Config{Issuer: live.issuer, Audience: liveAudience, MinRefreshInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	good := live.token(t, liveAudience)
	parts := strings.Split(good, ".")
	var header map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	json.Unmarshal(raw, &header)

	// The RS256 public key, as an attacker would fetch it from the JWKS.
	resp, _ := http.Get(live.url + "/.well-known/jwks.json")
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	json.NewDecoder(resp.Body).Decode(&jwks)
	resp.Body.Close()
	pubDER, _ := x509.MarshalPKIXPublicKey(live.srvPublicKey(t, header["kid"].(string)))
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	flipped := []byte(good)
	flipped[len(flipped)-5] ^= 0x01

	past := startLive(t, "https://auth.test", func() time.Time { return time.Now().Add(-3 * time.Hour) })
	future := startLive(t, "https://auth.test", func() time.Time { return time.Now().Add(time.Hour) })
	otherIssuer := startLive(t, "https://someone-else.example", nil)

	tests := []struct {
		name  string
		v     *verify.Verifier
		token string
		want  error
	}{
		{"valid", v, good, nil},
		{"wrong audience", v, live.token(t, "https://other.example.io"), verify.ErrAudience},
		{"flipped signature byte", v, string(flipped), verify.ErrInvalidToken},
		{"alg none", v, forge(good, map[string]any{"alg": "none", "typ": "at+jwt", "kid": header["kid"]}, nil), verify.ErrInvalidToken},
		{"HS256 with the public key (PEM) as secret", v, forge(good, map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}, pubPEM), verify.ErrInvalidToken},
		{"HS256 with the public key (DER) as secret", v, forge(good, map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}, pubDER), verify.ErrInvalidToken},
		{"forged kid", v, strings.Replace(good, parts[0], base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"forged","typ":"at+jwt"}`)), 1), verify.ErrInvalidToken},
		{"jku pointing elsewhere", v, strings.Replace(good, parts[0], base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"`+header["kid"].(string)+`","typ":"at+jwt","jku":"https://evil.example/jwks"}`)), 1), verify.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(context.Background(), tt.token)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	// Issuers whose tokens this verifier must refuse for time or issuer.
	for _, tt := range []struct {
		name string
		l    *liveIssuer
		want error
	}{
		{"expired (issued three hours ago for one hour)", past, verify.ErrExpired},
		{"not yet valid (issued an hour ahead)", future, verify.ErrNotYetValid},
		{"another issuer", otherIssuer, verify.ErrIssuer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v2, err := verify.New(context.Background(), verify.Config{Issuer: "https://auth.test", Audience: liveAudience, JWKSURL: tt.l.url + "/.well-known/jwks.json"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v2.Verify(context.Background(), tt.l.token(t, liveAudience)); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}

	t.Run("insufficient scope through the middleware", func(t *testing.T) {
		h := v.Middleware(verify.RequireScope("write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", "Bearer "+good)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 403 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="insufficient_scope"`) {
			t.Errorf("got %d %q, want 403 insufficient_scope", w.Code, w.Header().Get("WWW-Authenticate"))
		}
	})
	t.Run("a key rotated after the JWKS was cached", func(t *testing.T) {
		live.do(t, "POST", "/admin/v1/keys/rotate", nil, nil)
		if err := live.srv.TickKeys(context.Background()); err != nil {
			t.Fatal(err)
		}
		fresh := live.token(t, liveAudience)
		if strings.Split(fresh, ".")[0] == parts[0] {
			t.Fatal("the rotation did not change the signing key")
		}
		if _, err := v.Verify(context.Background(), fresh); err != nil {
			t.Errorf("a token of the new key: %v", err)
		}
		if _, err := v.Verify(context.Background(), good); err != nil {
			t.Errorf("a token of the retired key: %v", err)
		}
	})
}

func (l *liveIssuer) srvPublicKey(t *testing.T, kid string) any {
	t.Helper()
	k := l.srv.PublicKey(kid)
	if k == nil {
		t.Fatalf("no key %s", kid)
	}
	return k
}
