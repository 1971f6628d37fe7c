package token

import (
	"context"
	"maps"
	"slices"

	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// A grantType is one grant_type of the token endpoint. The endpoint owns
// every shared step (Issuer.Token); a grant only says whether its caller
// authenticates as a client first and which client the token is for. A
// new grant is one entry in grantTypes.
type grantType struct {
	// authenticate makes the caller authenticate as a client (RFC 6749
	// §2.3) before resolve; the authenticated client is resolve's caller.
	authenticate bool
	// claim is the token's gty claim.
	claim string
	// resolve returns the client the token is issued to; its grants are
	// the ceiling of what the token may carry.
	resolve func(ctx context.Context, i *Issuer, req oauth.TokenRequest, caller *store.Client) (*store.Client, error)
}

// grantTypes are the grants by their grant_type value.
var grantTypes = map[string]grantType{
	// RFC 6749 §4.4: the client asks for itself.
	"client_credentials": {
		authenticate: true,
		claim:        "client-credentials",
		resolve: func(_ context.Context, _ *Issuer, _ oauth.TokenRequest, caller *store.Client) (*store.Client, error) {
			return caller, nil
		},
	},
}

// GrantTypes lists the grant_type values the token endpoint accepts, for
// the metadata document.
func GrantTypes() []string {
	out := slices.Collect(maps.Keys(grantTypes))
	slices.Sort(out)
	return out
}
