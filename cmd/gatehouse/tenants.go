package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/store"
)

func newTenantCmd() *cobra.Command {
	var name string
	create := &cobra.Command{
		Use: "create ID", Short: "Create a tenant (a customer organization)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var t store.Tenant
			if err := c.Do(cmd.Context(), "POST", "/admin/v1/tenants", map[string]string{"id": args[0], "name": name}, &t); err != nil {
				return err
			}
			return fields(cmd, t, "id", t.ID, "name", t.Name)
		},
	}
	create.Flags().StringVar(&name, "name", "", "display name (default: the id)")
	list := &cobra.Command{
		Use: "list", Short: "List tenants", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var ts []store.Tenant
			if err := c.Do(cmd.Context(), "GET", "/admin/v1/tenants", nil, &ts); err != nil {
				return err
			}
			rows := make([][]string, len(ts))
			for i, t := range ts {
				rows[i] = []string{t.ID, t.Name}
			}
			return output(cmd, ts, []string{"ID", "NAME"}, rows)
		},
	}
	update := &cobra.Command{
		Use: "update ID [--quota N/h] [--quota N/d] [--limit-mode enforce|log-only]", Short: "Set a tenant's token quotas (shared by all its clients)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !limitsChanged(cmd.Flags()) {
				return usageError("give --quota N/h and/or --quota N/d, or --limit-mode")
			}
			if _, err := limitFlags(cmd.Flags(), store.Limits{}); err != nil {
				return err // a bad flag, before asking the server
			}
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var t store.Tenant
			// The API replaces a tenant's limits as a whole: start from
			// the ones it has, so that each flag changes one.
			if err := c.Do(cmd.Context(), "GET", adminclient.Path("admin", "v1", "tenants", args[0]), nil, &t); err != nil {
				return err
			}
			l, err := limitFlags(cmd.Flags(), t.Limits)
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "PATCH", adminclient.Path("admin", "v1", "tenants", args[0]), map[string]any{"limits": l}, &t); err != nil {
				return err
			}
			return fields(cmd, t, "id", t.ID, "name", t.Name, "quota", fmt.Sprintf("%d/h, %d/d (0: none)", t.Limits.QuotaHour, t.Limits.QuotaDay), "limit mode", limitMode(t.Limits))
		},
	}
	update.Flags().StringArray("quota", nil, "tokens an hour or a day for the whole tenant, e.g. 10000/h or 100000/d (repeatable)")
	addLimitModeFlag(update.Flags())
	return adminGroup("tenant", "Manage tenants", create, list, update)
}

func newEnvCmd() *cobra.Command {
	create := &cobra.Command{
		Use: "create TENANT/ENV", Short: "Create an environment; prints its api_key", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tenant, env, ok := cutSlash(args[0])
			if !ok {
				return usageError("write the environment as TENANT/ENV, e.g. acme/production")
			}
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var e store.Environment
			if err := c.Do(cmd.Context(), "POST", "/admin/v1/environments", map[string]string{"tenant": tenant, "id": env}, &e); err != nil {
				return err
			}
			if structured(cmd) {
				return printDoc(cmd, e)
			}
			return fields(cmd, e, "environment", e.Tenant+"/"+e.ID, "api_key", e.APIKey)
		},
	}
	list := &cobra.Command{
		Use: "list [TENANT]", Short: "List environments", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			path := "/admin/v1/environments"
			if len(args) == 1 {
				path += "?tenant=" + adminclient.Path(args[0])[1:]
			}
			var es []store.Environment
			if err := c.Do(cmd.Context(), "GET", path, nil, &es); err != nil {
				return err
			}
			rows := make([][]string, len(es))
			for i, e := range es {
				rows[i] = []string{e.Tenant, e.ID, e.APIKey}
			}
			return output(cmd, es, []string{"TENANT", "ENV", "API_KEY"}, rows)
		},
	}
	return adminGroup("env", "Manage environments (a tenant's deployment stages)", create, list)
}

func cutSlash(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], i > 0 && i < len(s)-1
		}
	}
	return "", "", false
}
