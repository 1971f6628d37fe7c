package main

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/store"
)

// parseGrants reads repeated --grant 'AUDIENCE=SCOPE SCOPE'; the audience
// ends at the first '='.
func parseGrants(raw []string) (map[string][]string, error) {
	grants := map[string][]string{}
	for _, g := range raw {
		aud, scopes, ok := strings.Cut(g, "=")
		aud = strings.TrimSpace(aud)
		if !ok || aud == "" {
			return nil, fmt.Errorf("--grant %q: write it as 'AUDIENCE=SCOPE SCOPE'", g)
		}
		grants[aud] = append(grants[aud], strings.Fields(scopes)...)
	}
	return grants, nil
}

func durationFlag(fs *pflag.FlagSet, name string) (*admin.Duration, error) {
	if !fs.Changed(name) {
		return nil, nil
	}
	s, _ := fs.GetString(name)
	d, err := admin.ParseDuration(s)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", name, err)
	}
	v := admin.Duration(d)
	return &v, nil
}

func printClient(cmd *cobra.Command, c admin.ClientView) error {
	if structured(cmd) {
		return printDoc(cmd, c)
	}
	pairs := []string{"client_id", c.ClientID}
	if c.ClientSecret != "" {
		pairs = append(pairs, "client_secret", c.ClientSecret+"   (shown once: store it now)")
	}
	pairs = append(pairs, "name", c.Name, "tenant", orDash(c.Tenant), "environment", orDash(c.Environment),
		"disabled", fmt.Sprint(c.Disabled))
	pairs = append(pairs, authPairs(c)...)
	if l := c.Limits; l.Any() {
		pairs = append(pairs, "limits", fmt.Sprintf("rate %d/s, quota %d/h, %d/d (0: none), %s", l.RatePerSecond, l.QuotaHour, l.QuotaDay, limitMode(l)))
	}
	if c.TokenTTL != nil {
		pairs = append(pairs, "token_ttl", formatDuration(*c.TokenTTL))
	}
	auds := make([]string, 0, len(c.Grants))
	for a := range c.Grants {
		auds = append(auds, a)
	}
	sort.Strings(auds)
	for _, a := range auds {
		pairs = append(pairs, "grant", a+" = "+strings.Join(c.Grants[a], " "))
	}
	for _, s := range c.Secrets {
		state := "live"
		if s.ExpiresAt != nil {
			state = "expires " + s.ExpiresAt.Format("2006-01-02 15:04:05Z07:00")
		}
		pairs = append(pairs, "secret", s.ID+" created "+s.CreatedAt.Format("2006-01-02 15:04:05Z07:00")+", "+state)
	}
	return fields(cmd, c, pairs...)
}

func newClientCmd() *cobra.Command {
	create := &cobra.Command{
		Use: "create --tenant ID --name NAME [flags]", Short: "Create a client (an API key); prints its secret once, if it has one", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs := cmd.Flags()
			in := admin.ClientInput{}
			in.Tenant, _ = fs.GetString("tenant")
			in.Environment, _ = fs.GetString("env")
			in.ClientID, _ = fs.GetString("client-id")
			name, _ := fs.GetString("name")
			in.Name = &name
			raw, _ := fs.GetStringArray("grant")
			grants, err := parseGrants(raw)
			if err != nil {
				return err
			}
			in.Grants = &grants
			if in.TokenTTL, err = durationFlag(fs, "token-ttl"); err != nil {
				return err
			}
			if in.SecretExpiresIn, err = durationFlag(fs, "secret-expires-in"); err != nil {
				return err
			}
			if in.Limits, err = limitFlags(fs, store.Limits{}); err != nil {
				return err
			}
			if in.AuthInput, err = authFlags(cmd, true); err != nil {
				return err
			}
			if in.AuthMethod != nil && *in.AuthMethod != store.AuthSecret {
				for _, f := range []string{"client-secret-stdin", "secret-expires-in"} {
					if fs.Changed(f) {
						return usageError("--" + f + " is only for --auth client_secret: a " + *in.AuthMethod + " client has no secret")
					}
				}
			}
			if stdin, _ := fs.GetBool("client-secret-stdin"); stdin {
				if in.ClientID == "" {
					return usageError("--client-secret-stdin imports an existing key: give its --client-id too")
				}
				if in.ClientSecret, err = readSecret(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var out admin.ClientView
			if err := c.Do(cmd.Context(), "POST", "/admin/v1/clients", in, &out); err != nil {
				return err
			}
			return printClient(cmd, out)
		},
	}
	fs := create.Flags()
	fs.String("tenant", "", "tenant id (required)")
	fs.String("env", "", "environment id: an environment automation client (default: organization-wide)")
	fs.String("name", "", "display name (required)")
	fs.StringArray("grant", nil, "'AUDIENCE=SCOPE SCOPE' the client may ask for (repeatable)")
	fs.String("token-ttl", "", "cap on the lifetime of this client's tokens, e.g. 15m")
	fs.String("secret-expires-in", "", "the secret stops working this long from now, e.g. 90d (default: never)")
	addLimitFlags(fs)
	fs.String("client-id", "", "import: the existing client id")
	fs.Bool("client-secret-stdin", false, "import: read the existing secret from standard input")
	addAuthFlags(fs)

	update := &cobra.Command{
		Use:   "update ID [--grant ...]... [--token-ttl D] [--name NAME] [--auth M] [--jwks-file F | --jwks-uri URL] [--tls-... NAME] [--require-dpop]",
		Short: "Change a client; --grant replaces all its grants, --jwks-file or --jwks-uri its keys", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			patch := map[string]any{}
			if fs.Changed("name") {
				v, _ := fs.GetString("name")
				patch["name"] = v
			}
			if fs.Changed("grant") {
				raw, _ := fs.GetStringArray("grant")
				grants, err := parseGrants(raw)
				if err != nil {
					return err
				}
				patch["grants"] = grants
			}
			ttl, err := durationFlag(fs, "token-ttl")
			if err != nil {
				return err
			}
			if ttl != nil {
				patch["token_ttl"] = ttl
			}
			if limitsChanged(fs) {
				// The API replaces a client's limits as a whole: start
				// from the ones it has, so that each flag changes one.
				if _, err := limitFlags(fs, store.Limits{}); err != nil {
					return err // a bad flag, before asking the server
				}
				var cur admin.ClientView
				if err := adminCall(cmd, "GET", adminclient.Path("admin", "v1", "clients", args[0]), nil, &cur); err != nil {
					return err
				}
				limits, err := limitFlags(fs, cur.Limits)
				if err != nil {
					return err
				}
				patch["limits"] = limits
			}
			auth, err := authFlags(cmd, false)
			if err != nil {
				return err
			}
			if err := mergeAuth(patch, auth); err != nil {
				return err
			}
			return clientCall(cmd, "PATCH", args[0], "", patch)
		},
	}
	update.Flags().String("name", "", "display name")
	update.Flags().StringArray("grant", nil, "'AUDIENCE=SCOPE SCOPE' (repeatable; replaces every grant)")
	update.Flags().String("token-ttl", "", "cap on the lifetime of this client's tokens (0 removes the cap)")
	addLimitFlags(update.Flags())
	addAuthFlags(update.Flags())

	rotate := &cobra.Command{
		Use: "rotate-secret ID [--keep-old 24h] [--expire-old-now]", Short: "Issue a new secret; the old one works for --keep-old", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keep, err := durationFlag(cmd.Flags(), "keep-old")
			if err != nil {
				return err
			}
			expires, err := durationFlag(cmd.Flags(), "expires-in")
			if err != nil {
				return err
			}
			expireOld, _ := cmd.Flags().GetBool("expire-old-now")
			return clientCall(cmd, "POST", args[0], "rotate-secret", map[string]any{"keep_old": keep, "expires_in": expires, "expire_old_now": expireOld})
		},
	}
	rotate.Flags().String("keep-old", "0s", "how long the current secret keeps working")
	rotate.Flags().Bool("expire-old-now", false, "end at once a secret still inside an earlier rotation's --keep-old window (else such a rotation is refused)")
	rotate.Flags().String("expires-in", "", "the new secret stops working this long from now (default: never)")

	list := &cobra.Command{
		Use: "list", Short: "List clients", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var cs []admin.ClientView
			if err := c.Do(cmd.Context(), "GET", "/admin/v1/clients", nil, &cs); err != nil {
				return err
			}
			rows := make([][]string, len(cs))
			for i, cl := range cs {
				state := "enabled"
				if cl.Disabled {
					state = "disabled"
				}
				rows[i] = []string{cl.ClientID, cl.Name, orDash(cl.Tenant), orDash(cl.Environment), cl.AuthMethod, state}
			}
			return output(cmd, cs, []string{"CLIENT_ID", "NAME", "TENANT", "ENV", "AUTH", "STATE"}, rows)
		},
	}
	simple := func(use, short, method, action string) *cobra.Command {
		return &cobra.Command{
			Use: use + " ID", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return clientCall(cmd, method, args[0], action, nil)
			},
		}
	}
	del := &cobra.Command{
		Use: "delete ID", Short: "Delete a client; its next token request is refused", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "DELETE", adminclient.Path("admin", "v1", "clients", args[0]), nil, nil); err != nil {
				return err
			}
			return fields(cmd, map[string]string{"deleted": args[0]}, "deleted", args[0])
		},
	}
	return adminGroup("client", "Manage clients (API keys and automation clients)", create, list,
		simple("get", "Show a client", "GET", ""), update,
		simple("disable", "Disable a client; its next token request is refused", "POST", "disable"),
		simple("enable", "Enable a disabled client", "POST", "enable"),
		del, rotate)
}

// clientCall sends one request about client id and prints the client.
// adminCall calls the admin API once.
func adminCall(cmd *cobra.Command, method, path string, body, out any) error {
	c, err := apiClient(cmd)
	if err != nil {
		return err
	}
	return c.Do(cmd.Context(), method, path, body, out)
}

func clientCall(cmd *cobra.Command, method, id, action string, body any) error {
	c, err := apiClient(cmd)
	if err != nil {
		return err
	}
	path := adminclient.Path("admin", "v1", "clients", id)
	if action != "" {
		path += "/" + action
	}
	var out admin.ClientView
	if err := c.Do(cmd.Context(), method, path, body, &out); err != nil {
		return err
	}
	return printClient(cmd, out)
}

// readSecret reads one line (the imported secret) from r.
func readSecret(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError("--client-secret-stdin: standard input was empty")
	}
	return line, nil
}

func newKeysCmd() *cobra.Command {
	show := func(use, short, method, path string) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := apiClient(cmd)
				if err != nil {
					return err
				}
				var ks []admin.KeyView
				if err := c.Do(cmd.Context(), method, path, nil, &ks); err != nil {
					return err
				}
				rows := make([][]string, len(ks))
				for i, k := range ks {
					rows[i] = []string{k.KID, k.Alg, k.State, k.CreatedAt.Format("2006-01-02 15:04"), k.ActivatesAt.Format("2006-01-02 15:04")}
				}
				return output(cmd, ks, []string{"KID", "ALG", "STATE", "CREATED", "SIGNS_FROM"}, rows)
			},
		}
	}
	return adminGroup("keys", "Signing keys",
		show("list", "List signing keys and their states", "GET", "/admin/v1/keys"),
		show("rotate", "Add a new key per algorithm; it signs after the publish delay", "POST", "/admin/v1/keys/rotate"))
}
