package tokencache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse/gatehouse/client"
)

// TokenError is the token endpoint's refusal (RFC 6749 §5.2).
type TokenError struct {
	Status      int
	Code        string
	Description string
}

func (e *TokenError) Error() string {
	switch {
	case e.Code == "":
		return fmt.Sprintf("the token endpoint answered %d %s", e.Status, http.StatusText(e.Status))
	case e.Description == "":
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// ClientCredentials returns a Fetch that asks for k at k.URL/oauth/token
// with the client credentials grant. The client authenticates with secret
// in HTTP Basic (client_secret_basic), or as opts say: with
// client.WithPrivateKey, a client assertion instead of the secret; with
// client.WithDPoP, the token is bound to a DPoP key (k.DPoP must then be
// its thumbprint, and k.Auth name the method, so that the cache keeps the
// tokens apart). hc carries the request; it should have a timeout.
func ClientCredentials(k Key, secret string, hc *http.Client, opts ...client.Option) Fetch {
	cfg := &clientcredentials.Config{
		ClientID:     k.ClientID,
		ClientSecret: secret,
		TokenURL:     strings.TrimSuffix(k.URL, "/") + "/oauth/token",
		Scopes:       strings.Fields(k.Scope),
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	if k.Audience != "" {
		cfg.EndpointParams = url.Values{"audience": {k.Audience}}
	}
	return func(ctx context.Context) (Entry, error) {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
		issued := time.Now()
		tok, err := client.NewTokenSource(ctx, cfg, opts...).Token()
		if err != nil {
			var re *oauth2.RetrieveError
			if errors.As(err, &re) {
				te := &TokenError{Code: re.ErrorCode, Description: re.ErrorDescription}
				if re.Response != nil {
					te.Status = re.Response.StatusCode
				}
				return Entry{}, te
			}
			return Entry{}, fmt.Errorf("requesting a token from %s: %w", cfg.TokenURL, err)
		}
		scope, _ := tok.Extra("scope").(string)
		return Entry{AccessToken: tok.AccessToken, TokenType: tok.TokenType, Scope: scope,
			IssuedAt: issued, ExpiresAt: tok.Expiry}, nil
	}
}
