package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/client"
)

// A program calls an API with tokens from gatehouse. When gatehouse
// revokes the token, the API answers 401; the client fetches a new token
// and the call succeeds without the program noticing.
func Example() {
	gatehouse, api := startTokenServer(), startAPI()
	defer gatehouse.Close()
	defer api.Close()

	cfg := &clientcredentials.Config{
		ClientID:       "c_123",
		ClientSecret:   "gh_s3cret",
		TokenURL:       gatehouse.URL + "/oauth/token",
		EndpointParams: url.Values{"audience": {"https://api.example.io"}},
		AuthStyle:      oauth2.AuthStyleInHeader,
	}
	hc := client.NewClient(context.Background(), cfg)
	hc.Timeout = 10 * time.Second

	get := func() {
		resp, err := hc.Get(api.URL + "/things")
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, string(body))
	}
	get()
	get() // the same token
	api.revoke("token-1")
	get() // a 401, a new token, the same request again
	// Output:
	// 200 GET  with token-1
	// 200 GET  with token-1
	// 200 GET  with token-2
}

// NewTransport puts the token handling under any other transport, and
// takes the client for token requests from the context.
func ExampleNewTransport() {
	gatehouse, api := startTokenServer(), startAPI()
	defer gatehouse.Close()
	defer api.Close()

	tokenHTTP := &http.Client{Timeout: 5 * time.Second}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, tokenHTTP)
	cfg := &clientcredentials.Config{ClientID: "c_123", ClientSecret: "gh_s3cret", TokenURL: gatehouse.URL + "/oauth/token",
		AuthStyle: oauth2.AuthStyleInHeader}
	base := &http.Transport{ResponseHeaderTimeout: 10 * time.Second}
	hc := &http.Client{Transport: client.NewTransport(ctx, cfg, base), Timeout: 10 * time.Second}

	// strings.Reader bodies can be replayed, so a POST is retried too.
	api.revoke("token-1")
	resp, err := hc.Post(api.URL+"/things", "text/plain", strings.NewReader("a thing"))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// 200 POST a thing with token-2
}

// A client without a shared secret: gatehouse holds its public key (the
// client's auth_method is private_key_jwt), and every token request
// carries a new assertion signed with the private key.
func ExampleWithPrivateKey() {
	// In a real program the key comes from a file or a KMS: any
	// crypto.Signer of an EC P-256, RSA or Ed25519 key will do.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	gatehouse, api := newKeyServer(key.Public(), ""), startAPI()
	defer gatehouse.Close()
	defer api.Close()

	pk, err := client.NewPrivateKey(key, "ES256", "key-2026-01")
	if err != nil {
		log.Fatal(err)
	}
	cfg := &clientcredentials.Config{
		ClientID:       "c_123",
		TokenURL:       gatehouse.URL + "/oauth/token",
		EndpointParams: url.Values{"audience": {"https://api.example.io"}},
	}
	hc := client.NewClient(context.Background(), cfg, client.WithPrivateKey(pk))
	hc.Timeout = 10 * time.Second

	resp, err := hc.Get(api.URL + "/things")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// 200 GET  with token-1
}

// Tokens bound to a key of the client's (DPoP): the token request proves
// possession of the key, and every API request carries a new proof, so a
// token that leaks is of no use without the key. This API asks for a
// server nonce: the first request learns it and is sent again.
func ExampleWithDPoP() {
	clientKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	// The DPoP key is registered nowhere: a new one per process will do.
	dpopKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	gatehouse := newKeyServer(clientKey.Public(), "")
	api := newDPoPAPI(gatehouse, "nonce-1")
	defer gatehouse.Close()
	defer api.Close()

	pk, err := client.NewPrivateKey(clientKey, "", "")
	if err != nil {
		log.Fatal(err)
	}
	d, err := client.NewDPoP(dpopKey, "")
	if err != nil {
		log.Fatal(err)
	}
	cfg := &clientcredentials.Config{ClientID: "c_123", TokenURL: gatehouse.URL + "/oauth/token"}
	hc := client.NewClient(context.Background(), cfg, client.WithPrivateKey(pk), client.WithDPoP(d))
	hc.Timeout = 10 * time.Second

	for range 2 {
		resp, err := hc.Get(api.URL + "/things")
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	fmt.Println("API calls:", api.calls)
	// Output:
	// 200 GET  with token-1
	// 200 GET  with token-1
	// API calls: 3
}

// NewTokenSource requests a new token at every call; oauth2.ReuseTokenSource
// keeps it until it expires, for code that sets the Authorization header
// itself (bearer tokens only: a DPoP-bound token needs a Transport).
func ExampleNewTokenSource() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	gatehouse := newKeyServer(key.Public(), "")
	defer gatehouse.Close()
	pk, err := client.NewPrivateKey(key, "", "")
	if err != nil {
		log.Fatal(err)
	}
	cfg := &clientcredentials.Config{ClientID: "c_123", TokenURL: gatehouse.URL + "/oauth/token"}
	src := oauth2.ReuseTokenSource(nil, client.NewTokenSource(context.Background(), cfg, client.WithPrivateKey(pk)))
	for range 2 {
		tok, err := src.Token()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tok.Type(), tok.AccessToken)
	}
	// Output:
	// Bearer token-1
	// Bearer token-1
}
