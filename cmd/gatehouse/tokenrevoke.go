package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/admin"
)

// newTokenRevokeCmd is `gatehouse token revoke --jti ID`: an operator
// revokes a token by the jti the audit log shows, through the admin API.
func newTokenRevokeCmd() *cobra.Command {
	var jti string
	cmd := &cobra.Command{
		Use:   "revoke --jti ID",
		Short: "Revoke an issued token (JWT or opaque) by the jti the audit log shows",
		Long: `Revoke a token by its jti, as "gatehouse audit list --kind token.issued"
shows it, through the admin API (POST /admin/v1/tokens/revoke, admin:write).

Introspection, the admin API and gatehouse gateways refuse the token from
then on (other nodes within seconds); a product API that verifies JWTs
offline, without a revocation list, accepts it until it expires.
Revoking a token twice is not an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var out admin.RevokedToken
			if err := c.Do(cmd.Context(), "POST", "/admin/v1/tokens/revoke", map[string]string{"jti": jti}, &out); err != nil {
				return err
			}
			if structured(cmd) {
				return printDoc(cmd, out)
			}
			what := "revoked"
			if out.AlreadyRevoked {
				what = "already revoked"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: jti %s (client %s, audience %s), refused until it expires at %s\n",
				what, out.JTI, out.ClientID, out.Audience, out.ExpiresAt.Format(time.RFC3339))
			return err
		},
	}
	cmd.Flags().StringVar(&jti, "jti", "", "the token's jti (from the audit log)")
	cmd.Flags().String("url", "", "gatehouse admin URL (env GATEHOUSE_URL, default http://127.0.0.1:8080)")
	cmd.Flags().String("credentials", "", "admin credentials file (env GATEHOUSE_CREDENTIALS, default ./gatehouse-data/admin-client.json)")
	_ = cmd.MarkFlagRequired("jti")
	return cmd
}
