// Command barehandler is the reference the performance targets are set
// against: a bare token handler that only parses a form, checks one hashed
// secret and signs a JWT (RS256 by default; ES256 or EdDSA as the second
// argument), with nothing else. scripts/benchmark.sh runs it beside
// gatehouse so the two can be compared on the same machine in the same
// minutes: for RS256 it is the handler gatehouse is held to, for ES256 and
// EdDSA it shows what a signature costs on top of scripts/fixedhandler's
// fixed body. It is a measuring stick, not a product: one hard-coded
// client (c1 / secret).
//
//	barehandler [addr] [RS256|ES256|EdDSA]
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	alg := "RS256"
	if len(os.Args) > 2 {
		alg = os.Args[2]
	}
	sign, err := signer(alg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	want := sha256.Sum256([]byte("secret"))
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `","kid":"k1","typ":"at+jwt"}`))
	http.HandleFunc("/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"invalid_request"}`, 400)
			return
		}
		got := sha256.Sum256([]byte(r.PostForm.Get("client_secret")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || r.PostForm.Get("client_id") != "c1" {
			http.Error(w, `{"error":"invalid_client"}`, 401)
			return
		}
		now := time.Now().Unix()
		claims, _ := json.Marshal(map[string]any{"iss": "http://x", "sub": "c1@clients", "aud": r.PostForm.Get("audience"), "iat": now, "exp": now + 86400, "client_id": "c1", "scope": "read", "gty": "client-credentials"})
		input := header + "." + base64.RawURLEncoding.EncodeToString(claims)
		sig := sign([]byte(input))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(map[string]any{"access_token": input + "." + base64.RawURLEncoding.EncodeToString(sig), "scope": "read", "expires_in": 86400, "token_type": "Bearer"})
	})
	addr := "127.0.0.1:18400"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// signer returns the JWS signature function of alg with a new key.
func signer(alg string) (func(input []byte) []byte, error) {
	switch alg {
	case "RS256":
		key, _ := rsa.GenerateKey(rand.Reader, 2048)
		key.Precompute()
		return func(input []byte) []byte {
			sum := sha256.Sum256(input)
			sig, _ := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
			return sig
		}, nil
	case "ES256":
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		return func(input []byte) []byte {
			sum := sha256.Sum256(input)
			r, s, _ := ecdsa.Sign(rand.Reader, key, sum[:])
			sig := make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
			return sig
		}, nil
	case "EdDSA":
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		return func(input []byte) []byte { return ed25519.Sign(key, input) }, nil
	}
	return nil, fmt.Errorf("barehandler: unknown algorithm %q (RS256, ES256 or EdDSA)", alg)
}
