package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

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

// structured reports whether -o asks for a document (json or yaml)
// rather than text.
func structured(cmd *cobra.Command) bool {
	o, _ := cmd.Flags().GetString("output")
	return o == "json" || o == "yaml"
}

// printDoc writes v in the -o format: indented JSON, or YAML with the
// same field names and order (kubectl users reach for -o yaml).
func printDoc(cmd *cobra.Command, v any) error {
	if o, _ := cmd.Flags().GetString("output"); o == "yaml" {
		return printYAML(cmd.OutOrStdout(), v)
	}
	return printJSON(cmd.OutOrStdout(), v)
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printYAML writes v as YAML by way of its JSON form, so the names and
// order are the JSON ones; every node is set to block style.
func printYAML(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return err
	}
	var block func(n *yaml.Node)
	block = func(n *yaml.Node) {
		n.Style = 0
		for _, c := range n.Content {
			block(c)
		}
	}
	block(&doc)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return enc.Close()
}

// output prints v as a document with -o json or yaml, or else as a table
// of rows.
func output(cmd *cobra.Command, v any, header []string, rows [][]string) error {
	o, _ := cmd.Flags().GetString("output")
	switch o {
	case "json", "yaml":
		return printDoc(cmd, v)
	case "text", "":
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		return tw.Flush()
	default:
		return fmt.Errorf("--output %q: use text, json or yaml", o)
	}
}

// fields prints one object as "name: value" lines, or a document with
// -o json or yaml.
func fields(cmd *cobra.Command, v any, pairs ...string) error {
	if structured(cmd) {
		return printDoc(cmd, v)
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
