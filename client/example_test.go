package client_test

import (
	"context"
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
