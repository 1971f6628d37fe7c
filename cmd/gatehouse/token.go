package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/tokencache"
)

// tokenRequestTimeout bounds the token request of `gatehouse token`.
const tokenRequestTimeout = 30 * time.Second

func newTokenCmd() *cobra.Command {
	var (
		k               tokencache.Key
		secret, secretF string
		scopes          []string
		noCache         bool
	)
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print an access token for a client, reusing it from a private cache until shortly before it expires",
		Long: `Print an access token (client credentials grant at <url>/oauth/token) alone
on stdout, for scripts:

  curl -H "Authorization: Bearer $(gatehouse token --client-id ID --audience URI)" ...

The token is cached in a file readable by you only, in $GATEHOUSE_TOKEN_CACHE
or gatehouse/ under your user cache directory, and reused while more than
60 s and more than 10% of its lifetime remain. The cache never holds the
client secret. --no-cache neither reads nor writes it.

The secret comes from --client-secret-file, GATEHOUSE_CLIENT_SECRET or
--client-secret (visible to other users in the process list: avoid it).
A refusal prints the RFC 6749 error and its description on stderr and
exits 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := benchClientSecret(secret, secretF)
			if err != nil {
				return err
			}
			k.URL = flagOrEnv(cmd, "url", "GATEHOUSE_URL", "http://127.0.0.1:8080")
			k.Scope = strings.Join(scopes, " ")
			cache := &tokencache.Cache{OnStoreError: func(err error) {
				fmt.Fprintln(cmd.ErrOrStderr(), "gatehouse: warning: the token was not cached:", err)
			}}
			if !noCache {
				if cache.Dir, err = tokencache.DefaultDir(); err != nil {
					return err
				}
			}
			fetch := tokencache.ClientCredentials(k, s, &http.Client{Timeout: tokenRequestTimeout})
			e, err := cache.Token(cmd.Context(), k, noCache, fetch)
			if err != nil {
				return err
			}
			if jsonOutput(cmd) {
				return printJSON(cmd.OutOrStdout(), map[string]any{
					"access_token": e.AccessToken, "token_type": e.TokenType, "scope": e.Scope,
					"expires_in": e.ExpiresIn(time.Now()),
				})
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), e.AccessToken)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&k.ClientID, "client-id", "", "client id")
	f.StringVar(&secretF, "client-secret-file", "", "file holding the client secret")
	f.StringVar(&secret, "client-secret", "", "client secret (prefer --client-secret-file or GATEHOUSE_CLIENT_SECRET)")
	f.StringVar(&k.Audience, "audience", "", "audience URI of the API the token is for")
	f.String("url", "", "gatehouse base URL (env GATEHOUSE_URL, default http://127.0.0.1:8080)")
	f.StringArrayVar(&scopes, "scope", nil, "scope to ask for, repeatable (default: all granted)")
	f.BoolVar(&noCache, "no-cache", false, "always fetch a new token; neither read nor write the cache")
	cmd.MarkFlagsMutuallyExclusive("client-secret", "client-secret-file")
	_ = cmd.MarkFlagRequired("client-id")
	_ = cmd.MarkFlagRequired("audience")
	return cmd
}
