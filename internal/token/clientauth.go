package token

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// An authMethod is one way a client proves who it is, at the token,
// introspection and revocation endpoints alike. Authenticate picks the
// method whose credential the request carries; a new method is one entry
// in authMethods.
type authMethod struct {
	// names are its RFC 8414 token_endpoint_auth_methods_supported values.
	names []string
	// presented reports whether req carries this method's credential.
	presented func(req *oauth.TokenRequest) bool
	// check verifies the credential for client, which is nil when the
	// request names no known client: the check must then fail after the
	// same work as a wrong credential.
	check func(ctx context.Context, i *Issuer, req *oauth.TokenRequest, client *store.Client) bool
}

// authMethods are tried in order; the last one takes any request.
var authMethods = []authMethod{
	{
		// RFC 6749 §2.3.1: a secret in the body or in HTTP Basic (the
		// parser has already decoded either into ClientID/ClientSecret).
		names:     []string{"client_secret_basic", "client_secret_post"},
		presented: func(*oauth.TokenRequest) bool { return true },
		check: func(ctx context.Context, i *Issuer, req *oauth.TokenRequest, client *store.Client) bool {
			var secrets []store.Secret // nil: an unknown client, checked against stand-ins
			if client != nil {
				secrets = client.Secrets
				if secrets == nil {
					secrets = []store.Secret{}
				}
			}
			return i.secrets.Check(ctx, secrets, req.ClientSecret, i.now())
		},
	},
}

// AuthMethods lists the client authentication methods the token endpoint
// accepts, for the metadata document.
func AuthMethods() []string {
	var out []string
	for _, m := range authMethods {
		out = append(out, m.names...)
	}
	return out
}

// authenticateThrottled refuses callers that keep failing before their
// credential is even checked, and counts their failures.
func (i *Issuer) authenticateThrottled(ctx context.Context, req oauth.TokenRequest, addr string) (*store.Client, error) {
	if wait := i.throttle.Blocked(req.ClientID, addr); wait > 0 {
		return nil, oauth.ErrTooManyRequests("Too many failed authentications; slow down.", wait)
	}
	client, err := i.Authenticate(ctx, req)
	if err != nil {
		i.throttle.Failed(req.ClientID, addr)
	}
	return client, err
}

// Authenticate checks the client's credentials. Unknown, disabled and
// deleted clients and wrong or expired credentials all give the same
// invalid_client, after the same work.
func (i *Issuer) Authenticate(ctx context.Context, req oauth.TokenRequest) (*store.Client, error) {
	if req.ClientID == "" {
		return nil, oauth.ErrInvalidClient(req.Basic)
	}
	var method authMethod
	for _, m := range i.methods {
		if m.presented(&req) {
			method = m
			break
		}
	}
	client, known := i.catalog.Client(req.ClientID)
	if !known {
		client = nil
	}
	if !method.check(ctx, i, &req, client) || client == nil || client.Disabled {
		return nil, oauth.ErrInvalidClient(req.Basic)
	}
	return client, nil
}
