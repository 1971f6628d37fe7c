package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
)

// adminGroup makes a command group whose subcommands call the admin API.
func adminGroup(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
	cmd.PersistentFlags().String("url", "", "gatehouse admin URL (env GATEHOUSE_URL, default http://127.0.0.1:8080)")
	cmd.PersistentFlags().String("credentials", "", "admin credentials file (env GATEHOUSE_CREDENTIALS, default ./gatehouse-data/admin-client.json)")
	cmd.AddCommand(subs...)
	return cmd
}

// apiClient builds the admin API client from --url and --credentials.
func apiClient(cmd *cobra.Command) (*adminclient.Client, error) {
	url := flagOrEnv(cmd, "url", "GATEHOUSE_URL", "http://127.0.0.1:8080")
	path := flagOrEnv(cmd, "credentials", "GATEHOUSE_CREDENTIALS", "./gatehouse-data/admin-client.json")
	creds, err := admin.ReadCredentials(path)
	if err != nil {
		return nil, fmt.Errorf("reading admin credentials: %w\n  (gatehouse serve writes them to <data-dir>/admin-client.json on first start; point --credentials or GATEHOUSE_CREDENTIALS at that file)", err)
	}
	return adminclient.New(cmd.Context(), url, creds), nil
}

func flagOrEnv(cmd *cobra.Command, flag, env, def string) string {
	if v, _ := cmd.Flags().GetString(flag); v != "" {
		return v
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

func jsonOutput(cmd *cobra.Command) bool {
	o, _ := cmd.Flags().GetString("output")
	return o == "json"
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// output prints v as JSON with -o json, or else as a table of rows.
func output(cmd *cobra.Command, v any, header []string, rows [][]string) error {
	o, _ := cmd.Flags().GetString("output")
	switch o {
	case "json":
		return printJSON(cmd.OutOrStdout(), v)
	case "text", "":
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		return tw.Flush()
	default:
		return fmt.Errorf("--output %q: use text or json", o)
	}
}

// fields prints one object as "name: value" lines, or JSON with -o json.
func fields(cmd *cobra.Command, v any, pairs ...string) error {
	if jsonOutput(cmd) {
		return printJSON(cmd.OutOrStdout(), v)
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(tw, "%s:\t%s\n", pairs[i], pairs[i+1])
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func usageError(msg string) error { return fmt.Errorf("%s", msg) }
