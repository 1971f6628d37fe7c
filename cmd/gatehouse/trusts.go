package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
)

// trustCommands make the subcommands of `gatehouse trust`. Another file
// adds one with a single line:
//
//	func init() { addTrustCommand(newTrustTestCmd) }
var trustCommands = []func() *cobra.Command{
	newTrustCreateCmd, newTrustUpdateCmd, newTrustListCmd, newTrustGetCmd, newTrustDeleteCmd, newTrustRuleCmd,
}

// addTrustCommand adds a subcommand to `gatehouse trust`.
func addTrustCommand(newCmd func() *cobra.Command) { trustCommands = append(trustCommands, newCmd) }

func newTrustCmd() *cobra.Command {
	subs := make([]*cobra.Command, len(trustCommands))
	for i, newCmd := range trustCommands {
		subs[i] = newCmd()
	}
	return adminGroup("trust", "Manage trusted outside issuers and their rules (workload identity federation)", subs...)
}

// trustRef reads TENANT/NAME.
func trustRef(arg string) (tenant, name string, err error) {
	tenant, name, ok := cutSlash(arg)
	if !ok || strings.Contains(name, "/") {
		return "", "", usageError("write the trust as TENANT/NAME, e.g. acme/github")
	}
	return tenant, name, nil
}

// trustTarget reads a command's TENANT/NAME and makes its admin API client.
func trustTarget(cmd *cobra.Command, ref string) (c *adminclient.Client, tenant, name string, err error) {
	if tenant, name, err = trustRef(ref); err != nil {
		return nil, "", "", err
	}
	c, err = apiClient(cmd)
	return c, tenant, name, err
}

// trustPath is the admin API path of a trust, with more segments after it.
func trustPath(tenant, name string, more ...string) string {
	return adminclient.Path(append([]string{"admin", "v1", "tenants", tenant, "trusts", name}, more...)...)
}

// trustFlags defines the flags create and update share.
func trustFlags(fs *pflag.FlagSet) {
	fs.String("issuer", "", "the exact \"iss\" of the tokens to trust (an https URL)")
	fs.String("jwks-uri", "", "https URL of the issuer's JWK Set (default: found by OIDC discovery of the issuer)")
	fs.String("jwks-file", "", "the issuer's public keys, a JWK Set or PEM public keys; - for standard input (for an issuer gatehouse cannot reach)")
	fs.StringArray("audience", nil, "an \"aud\" the outside tokens must carry one of (repeatable; default: gatehouse's issuer URL)")
	fs.String("max-age", "", "refuse tokens issued longer ago than this, e.g. 1h (0: no limit beyond exp)")
	fs.Bool("single-use", false, "accept each token's jti once (the tokens must carry one)")
}

// trustInput turns the flags that were given into an admin.TrustInput.
func trustInput(cmd *cobra.Command, name string) (admin.TrustInput, error) {
	fs := cmd.Flags()
	in := admin.TrustInput{Name: name}
	var err error
	if in.JWKSURI, in.JWKS, err = keySourceFlags(cmd, "issuer's"); err != nil {
		return in, err
	}
	if fs.Changed("issuer") {
		v, _ := fs.GetString("issuer")
		in.Issuer = &v
	}
	if fs.Changed("audience") {
		raw, _ := fs.GetStringArray("audience")
		auds := nonEmpty(raw)
		in.Audiences = &auds
	}
	if in.MaxAge, err = durationFlag(fs, "max-age"); err != nil {
		return in, err
	}
	if fs.Changed("single-use") {
		v, _ := fs.GetBool("single-use")
		in.SingleUse = &v
	}
	return in, nil
}

// nonEmpty drops empty values, so that a flag given once as "" clears a list.
func nonEmpty(raw []string) []string {
	out := []string{}
	for _, v := range raw {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func printTrust(cmd *cobra.Command, t admin.TrustView) error {
	if structured(cmd) {
		return printDoc(cmd, t)
	}
	keys := "OIDC discovery of the issuer"
	switch t.KeySource {
	case admin.KeySourceJWKSURI:
		keys = "jwks_uri " + t.JWKSURI
	case admin.KeySourceJWKS:
		keys = "static JWKS, kid " + strings.Join(admin.KeyIDs(string(t.JWKS)), ", ")
	}
	maxAge := "no limit beyond exp"
	if t.MaxAge != nil {
		maxAge = formatDuration(*t.MaxAge)
	}
	auds := "gatehouse's issuer URL (default)"
	if len(t.Audiences) > 0 {
		auds = strings.Join(t.Audiences, " ")
	}
	pairs := []string{"trust", t.Tenant + "/" + t.Name, "issuer", t.Issuer, "keys", keys, "audiences", auds,
		"max_age", maxAge, "single_use", fmt.Sprint(t.SingleUse)}
	for _, r := range t.Rules {
		pairs = append(pairs, "rule", ruleText(r))
	}
	return fields(cmd, t, pairs...)
}

// ruleText is a rule on one line.
func ruleText(r admin.RuleView) string {
	s := r.Name + ": client " + r.Client + " when " + r.Match
	if len(r.Scopes) > 0 {
		s += "; scopes at most " + strings.Join(r.Scopes, " ")
	}
	if r.TokenTTL != nil {
		s += "; token_ttl at most " + formatDuration(*r.TokenTTL)
	}
	return s
}

func newTrustCreateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create TENANT/NAME --issuer URL [--jwks-uri URL | --jwks-file F] [--audience A]... [--max-age 1h] [--single-use]",
		Short: "Trust an outside issuer's tokens for a tenant's workloads (keys by OIDC discovery unless given)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tenant, name, err := trustRef(args[0])
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("issuer") {
				return usageError("--issuer is required, e.g. --issuer https://token.actions.githubusercontent.com")
			}
			in, err := trustInput(cmd, name)
			if err != nil {
				return err
			}
			return trustCall(cmd, "POST", adminclient.Path("admin", "v1", "tenants", tenant, "trusts"), in)
		},
	}
	trustFlags(cmd.Flags())
	return cmd
}

func newTrustUpdateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "update TENANT/NAME [--issuer URL] [--jwks-uri URL | --jwks-file F | --discovery] [--audience A]... [--max-age D] [--single-use=BOOL]",
		Short: "Change a trust (only the flags given; --audience '' clears the audiences)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tenant, name, err := trustRef(args[0])
			if err != nil {
				return err
			}
			in, err := trustInput(cmd, "")
			if err != nil {
				return err
			}
			if discovery, _ := cmd.Flags().GetBool("discovery"); discovery {
				if in.JWKS != nil || in.JWKSURI != nil {
					return usageError("--discovery replaces --jwks-uri and --jwks-file: give one of them")
				}
				none := ""
				in.JWKSURI = &none
			}
			return trustCall(cmd, "PATCH", trustPath(tenant, name), in)
		},
	}
	trustFlags(cmd.Flags())
	cmd.Flags().Bool("discovery", false, "drop the jwks_uri or static keys: find the keys by OIDC discovery of the issuer")
	return cmd
}

// trustCall sends a trust's create or update and prints the trust.
func trustCall(cmd *cobra.Command, method, path string, in admin.TrustInput) error {
	c, err := apiClient(cmd)
	if err != nil {
		return err
	}
	var t admin.TrustView
	if err := c.Do(cmd.Context(), method, path, in, &t); err != nil {
		return err
	}
	return printTrust(cmd, t)
}

func newTrustListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use: "list [--tenant T]", Short: "List trusts, of one tenant or of all", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			path := "/admin/v1/trusts"
			if tenant, _ := cmd.Flags().GetString("tenant"); tenant != "" {
				path = adminclient.Path("admin", "v1", "tenants", tenant, "trusts")
			}
			var ts []admin.TrustView
			if err := c.Do(cmd.Context(), "GET", path, nil, &ts); err != nil {
				return err
			}
			rows := make([][]string, len(ts))
			for i, t := range ts {
				rows[i] = []string{t.Tenant + "/" + t.Name, t.Issuer, t.KeySource, fmt.Sprint(len(t.Rules))}
			}
			return output(cmd, ts, []string{"TRUST", "ISSUER", "KEYS", "RULES"}, rows)
		},
	}
	cmd.Flags().String("tenant", "", "only this tenant's trusts")
	return cmd
}

func newTrustGetCmd() *cobra.Command {
	return &cobra.Command{
		Use: "get TENANT/NAME", Short: "Show a trust and its rules", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, tenant, name, err := trustTarget(cmd, args[0])
			if err != nil {
				return err
			}
			var t admin.TrustView
			if err := c.Do(cmd.Context(), "GET", trustPath(tenant, name), nil, &t); err != nil {
				return err
			}
			return printTrust(cmd, t)
		},
	}
}

func newTrustDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use: "delete TENANT/NAME", Short: "Delete a trust and its rules; its issuer's tokens are refused from then on", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, tenant, name, err := trustTarget(cmd, args[0])
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "DELETE", trustPath(tenant, name), nil, nil); err != nil {
				return err
			}
			return fields(cmd, map[string]string{"deleted": args[0]}, "deleted", args[0])
		},
	}
}
