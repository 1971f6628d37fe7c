package binding

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestFromClaim reads cnf claims as verify (JWTs) and the gateway
// (introspection answers) decode them: no cnf binds nothing, and one that
// holds neither method this package enforces is refused.
func TestFromClaim(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    Confirmation
		wantErr error
	}{
		{"no cnf", `{}`, Confirmation{}, nil},
		{"null cnf", `{"cnf":null}`, Confirmation{}, nil},
		{"jkt", `{"cnf":{"jkt":"abc"}}`, Confirmation{JKT: "abc"}, nil},
		{"x5t#S256", `{"cnf":{"x5t#S256":"def"}}`, Confirmation{X5TS256: "def"}, nil},
		{"both", `{"cnf":{"jkt":"abc","x5t#S256":"def"}}`, Confirmation{JKT: "abc", X5TS256: "def"}, nil},
		{"empty cnf", `{"cnf":{}}`, Confirmation{}, ErrUnenforceable},
		{"another method only", `{"cnf":{"jwk":{"kty":"EC"}}}`, Confirmation{}, ErrUnenforceable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var claims struct {
				Cnf *Confirmation `json:"cnf"`
			}
			if err := json.Unmarshal([]byte(tt.payload), &claims); err != nil {
				t.Fatal(err)
			}
			got, err := FromClaim(claims.Cnf)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("got %+v, %v; want %+v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
