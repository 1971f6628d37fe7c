package token

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/oauth"
)

// A wrong secret's logged cause names the way the secret came: a body
// secret is client_secret_post, not client_secret_basic.
func TestWrongSecretCauseNamesTheMethod(t *testing.T) {
	w := newWorld(t)
	c := w.client(admin.NewClient{Grants: map[string][]string{platform: {"read"}}})
	tests := []struct {
		name  string
		basic bool
		want  string
	}{
		{"secret in the body", false, "client_secret_post: wrong or expired secret"},
		{"secret in HTTP Basic", true, "client_secret_basic: wrong or expired secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := oauth.TokenRequest{GrantType: "client_credentials", ClientID: c.id, ClientSecret: "gatehouse_wrong",
				Basic: tt.basic, Audience: platform, EndpointURL: tokenURL}
			_, err := w.iss.Authenticate(t.Context(), req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a cause containing %q", err, tt.want)
			}
		})
	}
}
