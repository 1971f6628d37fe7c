package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// refuseUnknownSubcommands makes every command group under root fail on
// a mistyped subcommand ("gatehouse env craete ..."). Cobra prints a
// group's help and exits 0 for one, so a script or a pasted README line
// would carry on as if it had worked.
func refuseUnknownSubcommands(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.HasSubCommands() && !c.Runnable() {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					return fmt.Errorf("unknown command %q for %q (see %s --help)", args[0], cmd.CommandPath(), cmd.CommandPath())
				}
				return cmd.Help()
			}
			c.Args = cobra.ArbitraryArgs
		}
		refuseUnknownSubcommands(c)
	}
}
