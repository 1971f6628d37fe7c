package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/internal/tokencache"
)

// tokenRequestTimeout bounds the token request of `gatehouse token`.
const tokenRequestTimeout = 30 * time.Second

// tokenFlags are the flags of `gatehouse token` that are not the cache key.
type tokenFlags struct {
	secret, secretFile string
	scopes             []string
	noCache            bool
	keyFile, alg, kid  string
	dpopKeyFile        string
}

func newTokenCmd() *cobra.Command {
	var (
		k  tokencache.Key
		fl tokenFlags
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
client secret or a key. --no-cache neither reads nor writes it.

The secret comes from --client-secret-file, GATEHOUSE_CLIENT_SECRET or
--client-secret (visible to other users in the process list: avoid it).
A client registered with private_key_jwt gives --key instead: a PEM private
key (PKCS#8, EC or RSA) whose public key the client has; every token request
then carries a new client assertion signed with it (RFC 7523), with --alg
(default ES256, RS256 or EdDSA by the key's type) and --kid when set.

--dpop-key binds the token to a PEM private key (RFC 9449 DPoP): the
request carries a proof of it, and the token (token_type DPoP with -o json)
must be sent as "Authorization: DPoP <token>" with a new proof of the same
key for every request. Bound and bearer tokens are cached apart.

A refusal prints the RFC 6749 error and its description on stderr and
exits 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k.URL = flagOrEnv(cmd, "url", "GATEHOUSE_URL", "http://127.0.0.1:8080")
			k.Scope = strings.Join(fl.scopes, " ")
			secret, opts, err := fl.credentials(&k)
			if err != nil {
				return err
			}
			cache := &tokencache.Cache{OnStoreError: func(err error) {
				fmt.Fprintln(cmd.ErrOrStderr(), "gatehouse: warning: the token was not cached:", err)
			}}
			if !fl.noCache {
				if cache.Dir, err = tokencache.DefaultDir(); err != nil {
					return err
				}
			}
			fetch := tokencache.ClientCredentials(k, secret, &http.Client{Timeout: tokenRequestTimeout}, opts...)
			e, err := cache.Token(cmd.Context(), k, fl.noCache, fetch)
			if err != nil {
				return err
			}
			if structured(cmd) {
				return printDoc(cmd, map[string]any{
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
	f.StringVar(&fl.secretFile, "client-secret-file", "", "file holding the client secret")
	f.StringVar(&fl.secret, "client-secret", "", "client secret (prefer --client-secret-file or GATEHOUSE_CLIENT_SECRET)")
	f.StringVar(&fl.keyFile, "key", "", "PEM private key to sign a client assertion with, instead of a secret (private_key_jwt)")
	f.StringVar(&fl.alg, "alg", "", "algorithm of the client assertion: ES256, RS256, PS256 or EdDSA (default: by the key's type)")
	f.StringVar(&fl.kid, "kid", "", "key id to name in the client assertion's header")
	f.StringVar(&fl.dpopKeyFile, "dpop-key", "", "PEM private key to bind the token to (DPoP)")
	f.StringVar(&k.Audience, "audience", "", "audience URI of the API the token is for")
	f.String("url", "", "gatehouse base URL (env GATEHOUSE_URL, default http://127.0.0.1:8080)")
	f.StringArrayVar(&fl.scopes, "scope", nil, "scope to ask for, repeatable (default: all granted)")
	f.BoolVar(&fl.noCache, "no-cache", false, "always fetch a new token; neither read nor write the cache")
	cmd.MarkFlagsMutuallyExclusive("client-secret", "client-secret-file", "key")
	_ = cmd.MarkFlagRequired("client-id")
	_ = cmd.MarkFlagRequired("audience")
	cmd.AddCommand(newTokenRevokeCmd())
	return cmd
}

// credentials reads the secret, or else the private key, and the DPoP key,
// and puts how the token is asked for into k.
func (fl *tokenFlags) credentials(k *tokencache.Key) (string, []client.Option, error) {
	var opts []client.Option
	if fl.dpopKeyFile != "" {
		key, err := readPrivateKey(fl.dpopKeyFile)
		if err != nil {
			return "", nil, fmt.Errorf("--dpop-key: %w", err)
		}
		d, err := client.NewDPoP(key, "")
		if err != nil {
			return "", nil, fmt.Errorf("--dpop-key: %w", err)
		}
		k.DPoP, opts = d.Thumbprint(), append(opts, client.WithDPoP(d))
	}
	if fl.keyFile == "" {
		if fl.alg != "" || fl.kid != "" {
			return "", nil, usageError("--alg and --kid go with --key")
		}
		secret, err := benchClientSecret(fl.secret, fl.secretFile)
		return secret, opts, err
	}
	key, err := readPrivateKey(fl.keyFile)
	if err != nil {
		return "", nil, fmt.Errorf("--key: %w", err)
	}
	pk, err := client.NewPrivateKey(key, fl.alg, fl.kid)
	if err != nil {
		return "", nil, fmt.Errorf("--key: %w", err)
	}
	k.Auth = "private_key_jwt"
	return "", append(opts, client.WithPrivateKey(pk)), nil
}
