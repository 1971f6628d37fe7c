package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The data lifecycle commands: tenant rename and delete, env delete.

func tenantLifecycleCmds() []*cobra.Command {
	rename := &cobra.Command{
		Use: "rename ID NAME", Short: "Change a tenant's display name (its id never changes)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var t store.Tenant
			if err := c.Do(cmd.Context(), "PATCH", adminclient.Path("admin", "v1", "tenants", args[0]), map[string]string{"name": args[1]}, &t); err != nil {
				return err
			}
			return fields(cmd, t, "id", t.ID, "name", t.Name)
		},
	}
	var cascade bool
	del := &cobra.Command{
		Use:   "delete ID [--cascade]",
		Short: "Delete a tenant; refused while it has environments or clients, unless --cascade deletes them too",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return deleteWith(cmd, adminclient.Path("admin", "v1", "tenants", args[0]), cascade)
		},
	}
	del.Flags().BoolVar(&cascade, "cascade", false, "also delete the tenant's environments and clients (their tokens stop working)")
	return []*cobra.Command{rename, del}
}

func envLifecycleCmds() []*cobra.Command {
	var cascade bool
	del := &cobra.Command{
		Use:   "delete TENANT/ENV [--cascade]",
		Short: "Delete an environment; refused while clients belong to it, unless --cascade deletes them too",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tenant, env, ok := cutSlash(args[0])
			if !ok {
				return usageError("write the environment as TENANT/ENV, e.g. acme/production")
			}
			return deleteWith(cmd, adminclient.Path("admin", "v1", "environments", tenant, env), cascade)
		},
	}
	del.Flags().BoolVar(&cascade, "cascade", false, "also delete the environment's clients (their tokens stop working)")
	return []*cobra.Command{del}
}

// deleteWith sends a DELETE to path and prints what went.
func deleteWith(cmd *cobra.Command, path string, cascade bool) error {
	c, err := apiClient(cmd)
	if err != nil {
		return err
	}
	if cascade {
		path += "?cascade=true"
	}
	var d store.Deleted
	if err := c.Do(cmd.Context(), "DELETE", path, nil, &d); err != nil {
		return err
	}
	pairs := []string{}
	if d.Tenant != "" {
		pairs = append(pairs, "deleted tenant", d.Tenant)
	}
	pairs = append(pairs, "deleted environments", orNone(d.Environments), "deleted clients", orNone(d.Clients))
	return fields(cmd, d, pairs...)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, " ")
}
