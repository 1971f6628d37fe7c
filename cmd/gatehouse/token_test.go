package main

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/servertest"
	"github.com/gatehouse/gatehouse/internal/store"
)

// tokenTestKeys are made once: RSA generation is slow.
var tokenTestKeys = sync.OnceValue(func() map[string]crypto.Signer {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]crypto.Signer{"ec": ec, "rsa": rk, "ed": ed}
})

// tokenTestKeyFiles writes the test keys as PEM files, in each form a
// user may have, and returns their paths by name.
func tokenTestKeyFiles(t *testing.T) map[string]string {
	t.Helper()
	keys := tokenTestKeys()
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	sec1, err := x509.MarshalECPrivateKey(keys["ec"].(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"ec-pkcs8": pkcs8(keys["ec"]),
		// openssl ecparam -genkey writes the parameters first.
		"ec-sec1": append(pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...),
		"rsa-pkcs1": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(keys["rsa"].(*rsa.PrivateKey))}),
		"ed-pkcs8":  pkcs8(keys["ed"]),
		"encrypted": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}),
		"x25519":    pkcs8(x25519),
		"public":    pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}),
	}
	dir, paths := t.TempDir(), map[string]string{}
	for name, data := range files {
		paths[name] = filepath.Join(dir, name+".pem")
		writeFile(t, paths[name], string(data))
	}
	return paths
}

func TestReadPrivateKey(t *testing.T) {
	files := tokenTestKeyFiles(t)
	tests := []struct {
		file string
		want crypto.Signer // nil: an error
		err  string
	}{
		{"ec-pkcs8", tokenTestKeys()["ec"], ""},
		{"ec-sec1", tokenTestKeys()["ec"], ""},
		{"rsa-pkcs1", tokenTestKeys()["rsa"], ""},
		{"ed-pkcs8", tokenTestKeys()["ed"], ""},
		{"encrypted", nil, "encrypted"},
		{"x25519", nil, "cannot sign"},
		{"public", nil, "no PEM private key"},
		{"missing", nil, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := files[tt.file]
			if path == "" {
				path = filepath.Join(t.TempDir(), "missing.pem")
			}
			got, err := readPrivateKey(path)
			switch {
			case tt.want == nil && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("got %v, want an error with %q", err, tt.err)
			case tt.want != nil && err != nil:
				t.Errorf("got %v, want the key", err)
			case tt.want != nil && !got.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tt.want.Public()):
				t.Errorf("got another key")
			}
		})
	}
}

// startKeyedServer runs a gatehouse that asks for DPoP nonces, with an API
// and two clients: one with a secret, one with private_key_jwt and the
// test keys' public halves. It points the CLI at it, with a cache of its
// own.
func startKeyedServer(t *testing.T) (secretClient, keyClient admin.ClientView) {
	t.Helper()
	g := servertest.Start(t, func(c *config.Config) { c.DPoPNonce = true }, server.Options{})
	t.Setenv("GATEHOUSE_URL", g.URL)
	t.Setenv("GATEHOUSE_CREDENTIALS", g.Server.CredentialsPath())
	t.Setenv("GATEHOUSE_TOKEN_CACHE", t.TempDir())
	t.Setenv("GATEHOUSE_CLIENT_SECRET", "")
	g.Do("POST", "/admin/v1/tenants", map[string]string{"id": "acme"}, nil)
	g.Do("POST", "/admin/v1/apis", map[string]any{"audience": "https://api.example.io", "signing_alg": "ES256"}, nil)
	grants := map[string][]string{"https://api.example.io": {}}
	g.Do("POST", "/admin/v1/clients", map[string]any{"name": "secret", "tenant": "acme", "grants": grants}, &secretClient)
	g.Do("POST", "/admin/v1/clients", map[string]any{"name": "keyed", "tenant": "acme", "grants": grants}, &keyClient)

	// The admin API does not take auth methods on this branch: the test
	// registers the keys in the store and refreshes the node's catalog.
	var set jose.JSONWebKeySet
	for kid, k := range tokenTestKeys() {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid, Use: "sig"})
	}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := g.Server.Store().UpdateClient(ctx, keyClient.ClientID, func(old store.Client) (store.Client, error) {
		old.Auth, old.Secrets = store.ClientAuth{Method: store.AuthPrivateKeyJWT, JWKS: string(raw)}, nil
		return old, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := g.Server.Catalog().RefreshClient(ctx, keyClient.ClientID); err != nil {
		t.Fatal(err)
	}
	return secretClient, keyClient
}

// tokenJSON runs gatehouse token -o json and returns what it printed.
func tokenJSON(t *testing.T, args ...string) (map[string]any, error) {
	t.Helper()
	out, err := run(t, "", append([]string{"token", "--audience", "https://api.example.io", "-o", "json"}, args...)...)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("gatehouse token printed %q: %v", out, err)
	}
	return v, nil
}

func TestTokenWithKeys(t *testing.T) {
	secretClient, keyClient := startKeyedServer(t)
	files := tokenTestKeyFiles(t)
	tests := []struct {
		name     string
		args     []string
		wantType string // "" for an error
		err      string
	}{
		{"EC key, PKCS#8", []string{"--key", files["ec-pkcs8"], "--kid", "ec"}, "Bearer", ""},
		{"EC key, SEC 1, no kid", []string{"--key", files["ec-sec1"]}, "Bearer", ""},
		{"RSA key", []string{"--key", files["rsa-pkcs1"], "--kid", "rsa"}, "Bearer", ""},
		{"RSA key with PS256", []string{"--key", files["rsa-pkcs1"], "--alg", "PS256"}, "Bearer", ""},
		{"Ed25519 key", []string{"--key", files["ed-pkcs8"], "--kid", "ed"}, "Bearer", ""},
		{"key and DPoP", []string{"--key", files["ec-pkcs8"], "--dpop-key", files["ed-pkcs8"]}, "DPoP", ""},
		{"alg that does not fit", []string{"--key", files["rsa-pkcs1"], "--alg", "ES256"}, "", `alg "ES256" does not fit a RSA key`},
		{"the wrong kid", []string{"--key", files["ec-pkcs8"], "--kid", "rsa"}, "", "invalid_client"},
		{"a key and a secret", []string{"--key", files["ec-pkcs8"], "--client-secret", "x"}, "", "none of the others can be"},
		{"--alg without --key", []string{"--alg", "ES256", "--client-secret", "x"}, "", "--alg and --kid go with --key"},
		{"bad DPoP key file", []string{"--key", files["ec-pkcs8"], "--dpop-key", files["public"]}, "", "--dpop-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tokenJSON(t, append([]string{"--client-id", keyClient.ClientID, "--no-cache"}, tt.args...)...)
			switch {
			case tt.wantType == "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("got %v, want an error with %q", err, tt.err)
			case tt.wantType != "" && (err != nil || got["token_type"] != tt.wantType):
				t.Errorf("got %v, %v; want a %s token", got, err, tt.wantType)
			}
		})
	}

	t.Run("secret and DPoP", func(t *testing.T) {
		got, err := tokenJSON(t, "--client-id", secretClient.ClientID, "--client-secret", secretClient.ClientSecret,
			"--dpop-key", files["ec-pkcs8"], "--no-cache")
		if err != nil || got["token_type"] != "DPoP" {
			t.Errorf("got %v, %v; want a DPoP token", got, err)
		}
	})
}

// TestTokenCacheByBinding checks that the cache gives a bearer token only
// to bearer requests and a bound token only to requests with its key.
func TestTokenCacheByBinding(t *testing.T) {
	secretClient, keyClient := startKeyedServer(t)
	files := tokenTestKeyFiles(t)
	secretArgs := []string{"--client-id", secretClient.ClientID, "--client-secret", secretClient.ClientSecret}
	keyArgs := []string{"--client-id", keyClient.ClientID, "--key", files["ec-pkcs8"]}
	with := func(a []string, more ...string) []string { return append(append([]string(nil), a...), more...) }
	steps := []struct {
		name string
		args []string
	}{
		{"bearer", secretArgs},
		{"bound to the EC key", with(secretArgs, "--dpop-key", files["ec-pkcs8"])},
		{"bound to the Ed25519 key", with(secretArgs, "--dpop-key", files["ed-pkcs8"])},
		{"private key, bearer", keyArgs},
		{"private key, bound", with(keyArgs, "--dpop-key", files["ed-pkcs8"])},
	}
	tokens := map[string]string{}
	for round := range 2 {
		for _, s := range steps {
			got, err := tokenJSON(t, s.args...)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			tok, _ := got["access_token"].(string)
			switch {
			case round == 0 && tokens[tok] != "":
				t.Errorf("%s: got the token of %q", s.name, tokens[tok])
			case round == 0:
				tokens[tok] = s.name
			case tokens[tok] != s.name:
				t.Errorf("%s, again: got the token of %q, want its own from the cache", s.name, tokens[tok])
			}
		}
	}
}
