package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/admin"
)

// newTrustRuleCmd is `gatehouse trust rule`: a trust's rules, each mapping
// the outside tokens its CEL expression accepts to one gatehouse client.
func newTrustRuleCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rule", Short: "Manage a trust's rules", Args: cobra.NoArgs}
	cmd.AddCommand(newRuleAddCmd(), newRuleListCmd(), newRuleDeleteCmd())
	return cmd
}

func newRuleAddCmd() *cobra.Command {
	var in admin.RuleInput
	cmd := &cobra.Command{
		Use:   "add TENANT/NAME --name R --client ID --match 'CEL' [--scope S]... [--ttl D]",
		Short: "Map the outside tokens a CEL expression over claims accepts to a client of the trust's tenant",
		Example: `  gatehouse trust rule add acme/github --name deploy --client CLIENT_ID \
      --match 'claims.repository == "acme/deploy" && claims.ref == "refs/heads/main"' --scope deploy:write --ttl 10m`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tenant, name, err := trustRef(args[0])
			if err != nil {
				return err
			}
			for _, f := range []struct{ flag, value string }{{"--name", in.Name}, {"--client", in.Client}, {"--match", in.Match}} {
				if strings.TrimSpace(f.value) == "" {
					return usageError(f.flag + " is required")
				}
			}
			if in.TokenTTL, err = durationFlag(cmd.Flags(), "ttl"); err != nil {
				return err
			}
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var r admin.RuleView
			if err := c.Do(cmd.Context(), "POST", trustPath(tenant, name, "rules"), in, &r); err != nil {
				return err
			}
			return fields(cmd, r, "trust", args[0], "rule", ruleText(r))
		},
	}
	cmd.Flags().StringVar(&in.Name, "name", "", "the rule's name, unique in the trust (required)")
	cmd.Flags().StringVar(&in.Client, "client", "", "the client the matched workloads act as; its grants are the ceiling (required)")
	cmd.Flags().StringVar(&in.Match, "match", "", "a CEL expression over claims, e.g. 'claims.sub == \"system:serviceaccount:billing:export\"' (required)")
	cmd.Flags().StringArrayVar(&in.Scopes, "scope", nil, "cap the scopes granted to these (repeatable; default: the client's)")
	cmd.Flags().String("ttl", "", "cap the issued token's lifetime, e.g. 10m")
	return cmd
}

func newRuleListCmd() *cobra.Command {
	return &cobra.Command{
		Use: "list TENANT/NAME", Short: "List a trust's rules", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, tenant, name, err := trustTarget(cmd, args[0])
			if err != nil {
				return err
			}
			var rs []admin.RuleView
			if err := c.Do(cmd.Context(), "GET", trustPath(tenant, name, "rules"), nil, &rs); err != nil {
				return err
			}
			rows := make([][]string, len(rs))
			for i, r := range rs {
				ttl := "-"
				if r.TokenTTL != nil {
					ttl = formatDuration(*r.TokenTTL)
				}
				rows[i] = []string{r.Name, r.Client, orDash(strings.Join(r.Scopes, " ")), ttl, r.Match}
			}
			return output(cmd, rs, []string{"NAME", "CLIENT", "SCOPES", "TTL", "MATCH"}, rows)
		},
	}
}

func newRuleDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use: "delete TENANT/NAME RULE", Short: "Delete a rule; the workloads it matched are refused from then on", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, tenant, name, err := trustTarget(cmd, args[0])
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "DELETE", trustPath(tenant, name, "rules", args[1]), nil, nil); err != nil {
				return err
			}
			deleted := args[0] + " rule " + args[1]
			return fields(cmd, map[string]string{"deleted": deleted}, "deleted", deleted)
		},
	}
}
