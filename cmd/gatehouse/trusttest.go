package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/federation"
)

func init() { addTrustCommand(newTrustTestCmd) }

// newTrustTestCmd is `gatehouse trust test TENANT/NAME --token-file F`:
// the decoded token and each check's and rule's verdict, from the admin
// API, so an operator sees why a workload is refused without reading logs.
func newTrustTestCmd() *cobra.Command {
	var tokenFile string
	cmd := &cobra.Command{
		Use:   "test TENANT/NAME --token-file F",
		Short: "Show how a trust judges an outside token: its claims, each check and each rule",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tenant, name, ok := cutSlash(args[0])
			if !ok {
				return usageError("write the trust as TENANT/NAME, e.g. acme/github")
			}
			if tokenFile == "" {
				return usageError("give --token-file F (- reads standard input)")
			}
			raw, err := readToken(cmd, tokenFile)
			if err != nil {
				return err
			}
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var rep federation.Report
			path := adminclient.Path("admin", "v1", "tenants", tenant, "trusts", name, "test")
			if err := c.Do(cmd.Context(), "POST", path, map[string]string{"token": raw}, &rep); err != nil {
				return err
			}
			if structured(cmd) {
				return printDoc(cmd, rep)
			}
			return printTrustReport(cmd.OutOrStdout(), rep)
		},
	}
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding the outside token (- for standard input)")
	return cmd
}

// readToken reads a token from a file or standard input, trimmed.
func readToken(cmd *cobra.Command, path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 64<<10))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("reading the token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s holds no token", path)
	}
	return tok, nil
}

// printTrustReport writes the report for people: the outcome first, then the
// token, the checks and the rules.
func printTrustReport(w io.Writer, rep federation.Report) error {
	fmt.Fprintf(w, "%s\n\nheader:\n", rep.Summary)
	writeIndented(w, rep.Header)
	fmt.Fprintln(w, "claims:")
	writeIndented(w, rep.Claims)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCHECK\tRESULT\tDETAIL")
	for _, c := range rep.Verdict.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Result, c.Detail)
	}
	if rep.Verdict.Error != "" {
		// The token endpoint runs no rule then; the table says what they
		// would give, so it must not read as the refusal's reason.
		fmt.Fprintln(tw, "\nthe checks failed: the rules below ran over the unverified claims, to show whether they would match")
	}
	fmt.Fprintln(tw, "\nRULE\tCLIENT\tRESULT\tDETAIL")
	for _, r := range rep.Verdict.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Rule, r.Client, r.Result, r.Detail)
	}
	return tw.Flush()
}

func writeIndented(w io.Writer, v any) {
	b, _ := json.MarshalIndent(v, "  ", "  ")
	fmt.Fprintf(w, "  %s\n", b)
}
