// Command gatehouse is the gatehouse token service and its command-line
// client: serve, the admin subcommands, token, gateway and bench.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "gatehouse",
		Short:         "A self-hosted OAuth 2.0 token service for machine-to-machine APIs",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       readBuildInfo().String(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().StringP("output", "o", "text", "output format: text, json or yaml")
	root.AddCommand(
		newServeCmd(),
		newMigrateCmd(),
		newTenantCmd(),
		newEnvCmd(),
		newAPICmd(),
		newClientCmd(),
		newTrustCmd(),
		newKeysCmd(),
		newAuditCmd(),
		newConsoleCmd(),
		newTokenCmd(),
		newGatewayCmd(),
		newBenchCmd(),
		newVersionCmd(),
		newHealthcheckCmd(),
		newApplyCmd(),
		newExportCmd(),
	)
	refuseUnknownSubcommands(root)
	return root
}
