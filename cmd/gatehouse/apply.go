package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/declare"
)

// addAdminFlags gives a top-level command the admin groups' --url and
// --credentials.
func addAdminFlags(cmd *cobra.Command) {
	cmd.Flags().String("url", "", "gatehouse admin URL (env GATEHOUSE_URL, default http://127.0.0.1:8080)")
	cmd.Flags().String("credentials", "", "admin credentials file (env GATEHOUSE_CREDENTIALS, default ./gatehouse-data/admin-client.json)")
}

func newApplyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apply -f FILE [--dry-run] [--prune]",
		Short: "Make the server hold the tenants, environments, APIs, clients and trusts of a YAML (or JSON) file",
		Long: `apply compares FILE (- for standard input) with the server, prints the
changes (+ create, ~ update with each field, - delete) and makes them.
A second apply of the same file changes nothing. --dry-run only prints;
--prune also deletes the APIs, clients and trusts the file does not hold
(never built-in APIs nor the admin client this command uses). A trust's
changed rule is deleted and added again. A new client's generated secret
is printed once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs := cmd.Flags()
			path, _ := fs.GetString("file")
			if path == "" {
				return usageError("give the file to apply: -f FILE (- for standard input)")
			}
			doc, err := readDeclaration(cmd, path)
			if err != nil {
				return err
			}
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			creds, err := admin.ReadCredentials(flagOrEnv(cmd, "credentials", "GATEHOUSE_CREDENTIALS", "./gatehouse-data/admin-client.json"))
			if err != nil {
				return err
			}
			o := declare.Options{Self: creds.ClientID}
			o.DryRun, _ = fs.GetBool("dry-run")
			o.Prune, _ = fs.GetBool("prune")
			report, err := declare.Apply(cmd.Context(), c, doc, o)
			if report != nil {
				if perr := printReport(cmd, report); perr != nil {
					return perr
				}
			}
			return err
		},
	}
	cmd.Flags().StringP("file", "f", "", "the file to apply (YAML or JSON; - for standard input)")
	cmd.Flags().Bool("dry-run", false, "print the changes and make none")
	cmd.Flags().Bool("prune", false, "delete the APIs and clients the file does not hold")
	addAdminFlags(cmd)
	return cmd
}

func readDeclaration(cmd *cobra.Command, path string) (*declare.File, error) {
	var r io.Reader = cmd.InOrStdin()
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	doc, err := declare.Read(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, nil
}

func printReport(cmd *cobra.Command, r *declare.Report) error {
	if structured(cmd) {
		return printDoc(cmd, r)
	}
	return r.WriteText(cmd.OutOrStdout())
}

func newExportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export [-o yaml|json]",
		Short: "Print the server's tenants, environments, APIs, clients and trusts as a file apply takes (never a secret)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			doc, err := declare.Export(cmd.Context(), c)
			if err != nil {
				return err
			}
			switch o, _ := cmd.Flags().GetString("output"); o {
			case "json":
				return doc.WriteJSON(cmd.OutOrStdout())
			case "yaml", "text", "":
				return doc.WriteYAML(cmd.OutOrStdout())
			default:
				return fmt.Errorf("--output %q: use yaml or json", o)
			}
		},
	}
	addAdminFlags(cmd)
	return cmd
}
