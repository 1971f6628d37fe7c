package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCmd is the container's HEALTHCHECK: the image has no
// shell or curl, so the binary asks its own /readyz. A degraded node (no
// database, still issuing from memory) is healthy; a node without signing
// keys, or one that does not answer, is not.
func newHealthcheckCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the local gatehouse answers /readyz with 200 (for a container HEALTHCHECK)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url, _ := cmd.Flags().GetString("url")
			timeout, _ := cmd.Flags().GetDuration("timeout")
			insecure, _ := cmd.Flags().GetBool("insecure")
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/")+"/readyz", nil)
			if err != nil {
				return err
			}
			client := &http.Client{Transport: &http.Transport{
				// The check talks to this node over loopback; its certificate
				// names the public host, not 127.0.0.1.
				TLSClientConfig: &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec
			}}
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("not healthy: %w", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("not healthy: /readyz answered %d", resp.StatusCode)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "healthy")
			return nil
		},
	}
	cmd.Flags().String("url", "http://127.0.0.1:8080", "the node's base URL")
	cmd.Flags().Duration("timeout", 3*time.Second, "how long to wait for the answer")
	cmd.Flags().Bool("insecure", false, "skip TLS certificate checks (the node serves TLS on loopback)")
	return cmd
}
