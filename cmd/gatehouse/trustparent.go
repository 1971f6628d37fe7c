package main

import "github.com/spf13/cobra"

// newTrustCmd is the `trust` command group. Only `trust test` lives on
// this branch; the management subcommands (create, list, get, delete,
// rule ...) are another change's, which owns this group: when the two
// meet, this file goes and that group adds newTrustTestCmd().
func newTrustCmd() *cobra.Command {
	return adminGroup("trust", "Manage workload identity federation trusts", newTrustTestCmd())
}
