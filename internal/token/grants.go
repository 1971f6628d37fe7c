package token

import (
	"context"
	"maps"
	"slices"

	"github.com/gatehouse/gatehouse/internal/assertion"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// A grantType is one grant_type of the token endpoint. The endpoint owns
// every shared step (Issuer.Token); a grant only says whether its caller
// authenticates as a client first and which client the token is for. A
// new grant is one entry in grantTypes.
type grantType struct {
	// authenticate reports whether the caller must authenticate as a
	// client (RFC 6749 §2.3) before resolve; the authenticated client is
	// resolve's caller.
	authenticate func(req *oauth.TokenRequest) bool
	// claim is the token's gty claim.
	claim string
	// resolve returns the client the token is issued to (its grants are
	// the ceiling of what the token may carry) and what further limits
	// and claims the grant puts on the token; nil means the caller, with
	// nothing further.
	resolve func(ctx context.Context, i *Issuer, req oauth.TokenRequest, caller *store.Client) (*resolution, error)
}

func always(*oauth.TokenRequest) bool { return true }
func never(*oauth.TokenRequest) bool  { return false }

// withCredentials is for grants whose client authentication is optional
// (RFC 7523 §3.1, RFC 8693 §2.1): credentials that are sent are checked,
// never ignored, so a wrong secret beside a good assertion is refused.
func withCredentials(req *oauth.TokenRequest) bool {
	return req.ClientSecret != "" || req.Basic || req.ClientAssertion != ""
}

// mappedClient is the client a federated request may become: the one that
// authenticated, else the one it names, else any (the rules decide).
func mappedClient(req oauth.TokenRequest, caller *store.Client) string {
	if caller != nil {
		return caller.ID
	}
	return req.ClientID
}

// grantTypes are the grants by their grant_type value.
var grantTypes = map[string]grantType{
	// RFC 6749 §4.4: the client asks for itself.
	"client_credentials": {
		authenticate: always,
		claim:        "client-credentials",
	},
	// RFC 7523 §2.1: an outside token is the grant; a trust's rule names
	// the client (federation.go).
	oauth.GrantJWTBearer: {
		authenticate: withCredentials,
		claim:        "jwt-bearer",
		resolve: func(ctx context.Context, i *Issuer, req oauth.TokenRequest, caller *store.Client) (*resolution, error) {
			if req.Assertion == "" {
				return nil, oauth.ErrInvalidRequest("assertion is required.")
			}
			return i.federated(ctx, req.Assertion, mappedClient(req, caller), "")
		},
	},
	// RFC 8693: an outside token (federation.go), or a gatehouse access
	// token an authenticated client acts on (delegation.go).
	oauth.GrantTokenExchange: {
		authenticate: func(req *oauth.TokenRequest) bool {
			return req.SubjectTokenType == oauth.TokenTypeAccess || withCredentials(req)
		},
		claim:   "token-exchange",
		resolve: exchange,
	},
}

// federatedClientCredentials is client_credentials whose client_assertion
// was signed by a trusted issuer rather than by a client: the assertion
// is an outside token, handled like a jwt-bearer grant.
var federatedClientCredentials = grantType{
	authenticate: never,
	claim:        "client-credentials",
	resolve: func(ctx context.Context, i *Issuer, req oauth.TokenRequest, _ *store.Client) (*resolution, error) {
		if req.ClientAssertionType != oauth.ClientAssertionJWT {
			return nil, oauth.ErrInvalidRequest("client_assertion_type must be %s.", oauth.ClientAssertionJWT)
		}
		if req.ClientSecret != "" || req.Basic {
			return nil, oauth.ErrInvalidRequest("Use one client authentication method: a client assertion or a secret, not both.")
		}
		return i.federated(ctx, req.ClientAssertion, req.ClientID, "")
	},
}

// exchange is RFC 8693 token exchange, by subject_token_type.
func exchange(ctx context.Context, i *Issuer, req oauth.TokenRequest, caller *store.Client) (*resolution, error) {
	if req.SubjectToken == "" {
		return nil, oauth.ErrInvalidRequest("subject_token is required.")
	}
	if req.ActorToken != "" || req.ActorTokenType != "" {
		return nil, oauth.ErrInvalidRequest("actor_token is not supported: the authenticated client is the actor.")
	}
	if t := req.RequestedTokenType; t != "" && t != oauth.TokenTypeAccess && t != oauth.TokenTypeJWT {
		return nil, oauth.ErrInvalidRequest("requested_token_type must be %s or %s.", oauth.TokenTypeAccess, oauth.TokenTypeJWT)
	}
	switch req.SubjectTokenType {
	case oauth.TokenTypeJWT, oauth.TokenTypeIDToken:
		return i.federated(ctx, req.SubjectToken, mappedClient(req, caller), oauth.TokenTypeAccess)
	case oauth.TokenTypeAccess:
		return i.delegate(ctx, req, caller)
	case "":
		return nil, oauth.ErrInvalidRequest("subject_token_type is required.")
	}
	return nil, oauth.ErrInvalidRequest("subject_token_type %q is not supported; use %s, %s or %s.",
		truncate(req.SubjectTokenType), oauth.TokenTypeJWT, oauth.TokenTypeIDToken, oauth.TokenTypeAccess)
}

// route picks the grant a request is: client_credentials whose client
// assertion comes from a trusted issuer (not a client id) is federated.
func (i *Issuer) route(gt grantType, req *oauth.TokenRequest) grantType {
	if req.GrantType != "client_credentials" || req.ClientAssertion == "" || !i.catalog.HasTrusts() {
		return gt // no trusts: a client assertion is a client's, decoded once by its check
	}
	if iss, _, err := assertion.Peek(req.ClientAssertion); err == nil && i.catalog.HasIssuer(iss) {
		if _, isClient := i.catalog.Client(iss); !isClient {
			return federatedClientCredentials
		}
	}
	return gt
}

// GrantTypes lists the grant_type values the token endpoint accepts, for
// the metadata document.
func GrantTypes() []string {
	out := slices.Collect(maps.Keys(grantTypes))
	slices.Sort(out)
	return out
}
