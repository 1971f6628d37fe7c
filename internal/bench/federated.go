package bench

import (
	"crypto"
	"encoding/json"

	jose "github.com/go-jose/go-jose/v4"
)

// The federated runs (AuthFederated) play a workload holding an outside
// identity: the load generator is the outside issuer, with a key the
// operator made for the run, and a trust of the server (SeedTrust)
// accepts its tokens through one rule.
const (
	// FederatedIssuer is the iss of the bench issuer's tokens. The
	// .invalid name can never be a real issuer.
	FederatedIssuer = "https://bench-issuer.gatehouse.invalid"
	// FederatedAudience is their aud, the only one the bench trust takes.
	FederatedAudience = "urn:gatehouse:bench"
	// FederatedSubject is their sub.
	FederatedSubject = "bench-workload"
	// GrantJWTBearer is the grant the federated runs send (RFC 7523 §2.1).
	GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// SeedTrust is the admin API body that creates the trust of a federated
// run (POST /admin/v1/tenants/{tenant}/trusts): the bench issuer, key's
// public half as its static JWKS, the bench audience, and one rule that
// maps every token of it to clientID.
func SeedTrust(name string, key crypto.Signer, clientID string) (map[string]any, error) {
	jwk := jose.JSONWebKey{Key: key.Public(), Use: "sig"}
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"name": name, "issuer": FederatedIssuer, "jwks": json.RawMessage(set), "audiences": []string{FederatedAudience},
		"rules": []map[string]any{{"name": "bench", "client": clientID, "match": `claims.sub == "` + FederatedSubject + `"`}},
	}, nil
}
