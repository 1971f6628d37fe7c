package admin

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzValidateJWKS: any document a client registers is answered without
// a panic, and one that is accepted holds no private or symmetric key.
func FuzzValidateJWKS(f *testing.F) {
	f.Add(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`)
	f.Add(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)
	f.Add(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","D":"x"}]}`)
	f.Add(`{"keys":[]}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, doc string) {
		if validateJWKS([]byte(doc)) != nil {
			return
		}
		var set struct{ Keys []map[string]json.RawMessage }
		if err := json.Unmarshal([]byte(doc), &set); err != nil {
			t.Fatalf("accepted a document that is not a JWK Set: %v", err)
		}
		for _, k := range set.Keys {
			for m := range k {
				for _, p := range privateMembers {
					if strings.EqualFold(m, p) {
						t.Fatalf("accepted a key holding %q", m)
					}
				}
			}
		}
	})
}
