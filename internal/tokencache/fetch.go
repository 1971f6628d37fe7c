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
// with the client credentials grant, authenticating with HTTP Basic
// (client_secret_basic). hc carries the request; it should have a timeout.
func ClientCredentials(k Key, secret string, hc *http.Client) Fetch {
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
		tok, err := cfg.Token(ctx)
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
