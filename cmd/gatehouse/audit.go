package main

import (
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

func newAuditCmd() *cobra.Command {
	list := &cobra.Command{
		Use: "list [--client ID] [--since 1h]", Short: "Show audit events, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if id, _ := cmd.Flags().GetString("client"); id != "" {
				q.Set("client", id)
			}
			if kind, _ := cmd.Flags().GetString("kind"); kind != "" {
				q.Set("kind", kind)
			}
			if show, _ := cmd.Flags().GetBool("admin-tokens"); !show {
				q.Set("admin_tokens", "hide")
			}
			since, _ := cmd.Flags().GetString("since")
			d, err := admin.ParseDuration(since)
			if err != nil {
				return usageError("--since: " + err.Error())
			}
			q.Set("since", time.Now().Add(-d).UTC().Format(time.RFC3339))
			if n, _ := cmd.Flags().GetInt("limit"); n > 0 {
				q.Set("limit", strconv.Itoa(n))
			}
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var events []store.AuditEvent
			if err := c.Do(cmd.Context(), "GET", "/admin/v1/audit?"+q.Encode(), nil, &events); err != nil {
				return err
			}
			rows := make([][]string, len(events))
			for i, e := range events {
				rows[i] = []string{e.At.Format("2006-01-02 15:04:05"), e.Kind, orDash(e.Actor), orDash(e.Target), e.Detail}
			}
			return output(cmd, events, []string{"AT", "KIND", "ACTOR", "TARGET", "DETAIL"}, rows)
		},
	}
	list.Flags().String("client", "", "only events about this client")
	list.Flags().String("kind", "", "only this kind, e.g. token.issued or client.disable")
	list.Flags().String("since", "24h", "how far back")
	list.Flags().Bool("admin-tokens", false, "also show the admin API tokens the CLI and console get for every command")
	list.Flags().Int("limit", 200, "at most this many events")
	return adminGroup("audit", "Read the audit log", list)
}
