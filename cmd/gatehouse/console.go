package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// consoleLink is the admin API's answer to POST /admin/v1/console/links.
type consoleLink struct {
	URL       string    `json:"url"`
	Path      string    `json:"path"`
	ExpiresAt time.Time `json:"expires_at"`
}

func newConsoleCmd() *cobra.Command {
	link := &cobra.Command{
		Use:   "link",
		Short: "Print a one-time sign-in link for the web console (valid 10 minutes, once)",
		Long: "Print a one-time sign-in link for the web console. It signs in as the admin client of\n" +
			"--credentials, works once and for 10 minutes, and only on the node that made it: behind a\n" +
			"load balancer, point --url at one node.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var out consoleLink
			if err := c.Do(cmd.Context(), "POST", "/admin/v1/console/links", nil, &out); err != nil {
				return err
			}
			// The console shares the admin API's listener: the link uses the
			// address this command reached the admin API at.
			if out.Path != "" {
				out.URL = strings.TrimSuffix(flagOrEnv(cmd, "url", "GATEHOUSE_URL", "http://127.0.0.1:8080"), "/") + out.Path
			}
			if structured(cmd) {
				return printDoc(cmd, out)
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.URL)
			fmt.Fprintf(cmd.ErrOrStderr(), "Open it within 10 minutes (until %s); it works once.\n", out.ExpiresAt.Local().Format("15:04"))
			return nil
		},
	}
	return adminGroup("console", "The web console at /console/", link)
}
