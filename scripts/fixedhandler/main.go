// Command fixedhandler is the floor the ES256 and EdDSA targets are set
// against: a bare Go HTTP server that reads the form of a token request
// and answers a fixed token-sized JSON body (an ES256 token's size), with
// no authentication, policy or signature. It measures what the HTTP server,
// the loopback and the load generator cost on the machine, so gatehouse's
// fast algorithms can be compared with it in the same run (as
// scripts/barehandler is the RS256 reference). It is a measuring stick,
// not a product: every POST to /oauth/token gets the same token.
package main

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	// An ES256 access token of gatehouse's shape is about 520 characters.
	token := strings.Repeat("x", 520)
	body := []byte(`{"access_token":"` + token + `","scope":"read","expires_in":86400,"token_type":"Bearer"}` + "\n")
	length := strconv.Itoa(len(body))
	http.HandleFunc("/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"invalid_request"}`, 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Length", length)
		w.Write(body)
	})
	addr := "127.0.0.1:18401"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
