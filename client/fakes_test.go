package client_test

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/internal/dpop"
)

// tokenServer stands in for gatehouse's POST /oauth/token: it issues
// token-1, token-2, ... to client c_123 with secret gh_s3cret.
type tokenServer struct {
	*httptest.Server
	issued atomic.Int32
}

func startTokenServer() *tokenServer {
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		id, secret, _ := r.BasicAuth()
		if r.URL.Path != "/oauth/token" || id != "c_123" || secret != "gh_s3cret" ||
			r.PostFormValue("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"Client authentication failed."}`)
			return
		}
		n := ts.issued.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": fmt.Sprintf("token-%d", n), "token_type": "Bearer", "expires_in": 900,
			"scope": r.PostFormValue("scope"),
		})
	}))
	return ts
}

// api stands in for a product API: it accepts the tokens it has not been
// told to refuse, and echoes the request body.
type api struct {
	*httptest.Server
	calls atomic.Int32

	mu      sync.Mutex
	refused map[string]bool
	all     bool // refuse every token
}

func startAPI() *api {
	a := &api{refused: map[string]bool{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.calls.Add(1)
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		a.mu.Lock()
		refuse := !ok || a.all || a.refused[tok]
		a.mu.Unlock()
		if refuse {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s with %s", r.Method, body, tok)
	}))
	return a
}

// revoke makes the API refuse tok from now on.
func (a *api) revoke(tok string) {
	a.mu.Lock()
	a.refused[tok] = true
	a.mu.Unlock()
}

// refuseAll makes the API refuse every token.
func (a *api) refuseAll() {
	a.mu.Lock()
	a.all = true
	a.mu.Unlock()
}

// keyServer stands in for gatehouse's POST /oauth/token for client c_123
// registered with a public key (private_key_jwt) and, when nonce is set,
// a DPoP nonce requirement. It checks what gatehouse checks and records
// what it saw. Tokens are bound to the proof's key when one comes.
type keyServer struct {
	*httptest.Server
	pub   crypto.PublicKey
	nonce string // required in DPoP proofs when set

	mu         sync.Mutex
	requests   int
	jtis       map[string]bool
	forms      []url.Values
	boundTo    map[string]string // token -> jkt
	assertions []map[string]any  // claims of each assertion seen
	headers    []map[string]any  // protected header of each
}

func newKeyServer(pub crypto.PublicKey, nonce string) *keyServer {
	ks := &keyServer{pub: pub, nonce: nonce, jtis: map[string]bool{}, boundTo: map[string]string{}}
	ks.Server = httptest.NewServer(http.HandlerFunc(ks.serve))
	return ks
}

func startKeyServer(t *testing.T, pub crypto.PublicKey, nonce string) *keyServer {
	t.Helper()
	ks := newKeyServer(pub, nonce)
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) tokenURL() string { return ks.URL + "/oauth/token" }

func (ks *keyServer) serve(w http.ResponseWriter, r *http.Request) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.requests++
	w.Header().Set("Content-Type", "application/json")
	_ = r.ParseForm()
	ks.forms = append(ks.forms, r.PostForm)
	if err := ks.checkAssertion(r); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":%q}`, err.Error())
		return
	}
	tokenType, jkt := "Bearer", ""
	if proof := r.Header.Get("DPoP"); proof != "" {
		want := dpop.Check{Method: "POST", URL: ks.tokenURL()}
		if ks.nonce != "" {
			want.Nonce = func(n string) bool { return n == ks.nonce }
		}
		p, err := dpop.Verify(proof, want)
		switch {
		case errors.Is(err, dpop.ErrUseNonce):
			w.Header().Set("DPoP-Nonce", ks.nonce)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"use_dpop_nonce","error_description":"Use the DPoP-Nonce."}`)
			return
		case err != nil:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_dpop_proof","error_description":%q}`, err.Error())
			return
		}
		tokenType, jkt = "DPoP", p.JKT
	}
	tok := fmt.Sprintf("token-%d", ks.requests)
	ks.boundTo[tok] = jkt
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": tokenType, "expires_in": 900})
}

// checkAssertion checks the request's client assertion as gatehouse does:
// signed by the registered key, iss = sub = c_123, aud the token URL, a
// short life, a jti never seen before, no secret beside it.
func (ks *keyServer) checkAssertion(r *http.Request) error {
	f := r.PostForm
	if f.Get("client_assertion_type") != client.ClientAssertionType || f.Get("client_secret") != "" {
		return errors.New("want a client assertion and no secret")
	}
	if _, _, basic := r.BasicAuth(); basic {
		return errors.New("want no Basic credentials")
	}
	jws, err := jose.ParseSigned(f.Get("client_assertion"), []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.PS256, jose.EdDSA})
	if err != nil {
		return err
	}
	payload, err := jws.Verify(ks.pub)
	if err != nil {
		return err
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		return err
	}
	h := jws.Signatures[0].Protected
	ks.assertions = append(ks.assertions, c)
	ks.headers = append(ks.headers, map[string]any{"alg": h.Algorithm, "kid": h.KeyID})
	jti, _ := c["jti"].(string)
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	switch {
	case c["iss"] != "c_123" || c["sub"] != "c_123" || (f.Get("client_id") != "" && f.Get("client_id") != "c_123"):
		return fmt.Errorf("iss %v, sub %v", c["iss"], c["sub"])
	case c["aud"] != ks.tokenURL() && c["aud"] != ks.URL:
		return fmt.Errorf("aud %v", c["aud"])
	case exp <= iat || exp-iat > 300 || math.Abs(iat-float64(time.Now().Unix())) > 5:
		return fmt.Errorf("iat %v, exp %v", iat, exp)
	case jti == "" || ks.jtis[jti]:
		return fmt.Errorf("jti %q used before", jti)
	}
	ks.jtis[jti] = true
	return nil
}

// dpopAPI stands in for a product API that takes DPoP-bound tokens from
// ks: the proof must name this request, hash this token and be signed by
// the key the token is bound to. When nonce is set, proofs must carry it
// (RFC 9449 §9).
type dpopAPI struct {
	*httptest.Server
	ks *keyServer

	mu      sync.Mutex
	nonce   string
	calls   int
	refused map[string]bool
	jtis    map[string]bool
}

func newDPoPAPI(ks *keyServer, nonce string) *dpopAPI {
	a := &dpopAPI{ks: ks, nonce: nonce, refused: map[string]bool{}, jtis: map[string]bool{}}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

func startDPoPAPI(t *testing.T, ks *keyServer, nonce string) *dpopAPI {
	t.Helper()
	a := newDPoPAPI(ks, nonce)
	t.Cleanup(a.Close)
	return a
}

func (a *dpopAPI) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "DPoP ")
	a.ks.mu.Lock()
	jkt := a.ks.boundTo[tok]
	a.ks.mu.Unlock()
	if !ok || jkt == "" || a.refused[tok] {
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	want := dpop.Check{Method: r.Method, URL: a.URL + r.URL.Path, AccessToken: tok}
	if a.nonce != "" {
		want.Nonce = func(n string) bool { return n == a.nonce }
	}
	p, err := dpop.Verify(r.Header.Get("DPoP"), want)
	switch {
	case errors.Is(err, dpop.ErrUseNonce):
		w.Header().Set("DPoP-Nonce", a.nonce)
		w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	case err != nil || p.JKT != jkt || a.jtis[p.JTI]:
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof"`)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "proof refused: %v", err)
		return
	}
	a.jtis[p.JTI] = true
	body, _ := io.ReadAll(r.Body)
	fmt.Fprintf(w, "%s %s with %s", r.Method, body, tok)
}

// setNonce changes the nonce the API asks for.
func (a *dpopAPI) setNonce(n string) {
	a.mu.Lock()
	a.nonce = n
	a.mu.Unlock()
}

func (a *dpopAPI) revoke(tok string) {
	a.mu.Lock()
	a.refused[tok] = true
	a.mu.Unlock()
}
