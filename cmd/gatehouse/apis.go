package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/store"
)

// apiFlags defines the flags create and update share.
func apiFlags(fs *pflag.FlagSet) {
	fs.String("name", "", "display name")
	fs.StringArray("scope", nil, "a scope, NAME or NAME=description (repeatable)")
	fs.String("ttl", "", "token lifetime, e.g. 15m or 24h (create default 24h)")
	fs.String("format", "", "token format: jwt or opaque (create default jwt)")
	fs.String("alg", "", "signing algorithm: RS256, ES256 or EdDSA (create default RS256)")
	fs.String("service", "", "path name of the per-service endpoint /{service}/v1/oauth2/token")
	fs.String("reuse-window", "", "hand a client asking again within this window the token it holds, e.g. 1m (0: off)")
	fs.StringArray("accept-exchange-from", nil, "an audience whose tokens clients may exchange for this API's (repeatable; '' alone clears the list)")
}

// apiInput turns the flags that were given into an admin.APIInput.
func apiInput(fs *pflag.FlagSet, audience string) (admin.APIInput, error) {
	in := admin.APIInput{Audience: audience}
	str := func(name string) *string {
		if !fs.Changed(name) {
			return nil
		}
		v, _ := fs.GetString(name)
		return &v
	}
	in.Name, in.TokenFormat, in.SigningAlg, in.Service = str("name"), str("format"), str("alg"), str("service")
	if fs.Changed("scope") {
		raw, _ := fs.GetStringArray("scope")
		scopes := []store.Scope{}
		for _, s := range raw {
			name, desc, _ := strings.Cut(s, "=")
			scopes = append(scopes, store.Scope{Name: strings.TrimSpace(name), Description: strings.TrimSpace(desc)})
		}
		in.Scopes = &scopes
	}
	if fs.Changed("accept-exchange-from") {
		raw, _ := fs.GetStringArray("accept-exchange-from")
		from := nonEmpty(raw)
		in.AcceptExchangeFrom = &from
	}
	if rw := str("reuse-window"); rw != nil {
		d, err := admin.ParseDuration(*rw)
		if err != nil {
			return in, fmt.Errorf("--reuse-window: %w", err)
		}
		v := admin.Duration(d)
		in.ReuseWindow = &v
	}
	if ttl := str("ttl"); ttl != nil {
		d, err := admin.ParseDuration(*ttl)
		if err != nil {
			return in, fmt.Errorf("--ttl: %w", err)
		}
		v := admin.Duration(d)
		in.TokenTTL = &v
	}
	return in, nil
}

func printAPI(cmd *cobra.Command, a admin.APIView) error {
	return fields(cmd, a, "audience", a.Audience, "name", a.Name,
		"scopes", strings.Join(store.ScopeNames(a.Scopes), " "), "token_ttl", formatDuration(a.TokenTTL),
		"token_format", a.TokenFormat, "signing_alg", a.SigningAlg, "service", orDash(a.Service), "reuse_window", reuseText(a.ReuseWindow),
		"accept_exchange_from", orDash(strings.Join(a.AcceptExchangeFrom, " ")))
}

func reuseText(d *admin.Duration) string {
	if d == nil {
		return "off"
	}
	return formatDuration(*d)
}

func formatDuration(d admin.Duration) string {
	s := d.Std().String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func newAPICmd() *cobra.Command {
	create := &cobra.Command{
		Use: "create --audience URI [flags]", Short: "Create an API (a resource server, known by its audience)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			aud, _ := cmd.Flags().GetString("audience")
			if aud == "" {
				return usageError("--audience is required, e.g. --audience https://api.example.io")
			}
			in, err := apiInput(cmd.Flags(), aud)
			if err != nil {
				return err
			}
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var a admin.APIView
			if err := c.Do(cmd.Context(), "POST", "/admin/v1/apis", in, &a); err != nil {
				return err
			}
			return printAPI(cmd, a)
		},
	}
	create.Flags().String("audience", "", "audience URI, or a template with {tenant} (required)")
	apiFlags(create.Flags())

	update := &cobra.Command{
		Use: "update AUDIENCE [flags]", Short: "Change an API (only the flags given)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := apiInput(cmd.Flags(), "")
			if err != nil {
				return err
			}
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var a admin.APIView
			if err := c.Do(cmd.Context(), "PATCH", adminclient.Path("admin", "v1", "apis", args[0]), in, &a); err != nil {
				return err
			}
			return printAPI(cmd, a)
		},
	}
	apiFlags(update.Flags())

	get := &cobra.Command{
		Use: "get AUDIENCE", Short: "Show an API", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var a admin.APIView
			if err := c.Do(cmd.Context(), "GET", adminclient.Path("admin", "v1", "apis", args[0]), nil, &a); err != nil {
				return err
			}
			return printAPI(cmd, a)
		},
	}
	list := &cobra.Command{
		Use: "list", Short: "List APIs", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			var as []admin.APIView
			if err := c.Do(cmd.Context(), "GET", "/admin/v1/apis", nil, &as); err != nil {
				return err
			}
			rows := make([][]string, len(as))
			for i, a := range as {
				rows[i] = []string{a.Audience, formatDuration(a.TokenTTL), a.TokenFormat, a.SigningAlg, orDash(a.Service), strings.Join(store.ScopeNames(a.Scopes), " ")}
			}
			return output(cmd, as, []string{"AUDIENCE", "TTL", "FORMAT", "ALG", "SERVICE", "SCOPES"}, rows)
		},
	}
	del := &cobra.Command{
		Use: "delete AUDIENCE", Short: "Delete an API; grants on it stop working", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "DELETE", adminclient.Path("admin", "v1", "apis", args[0]), nil, nil); err != nil {
				return err
			}
			return fields(cmd, map[string]string{"deleted": args[0]}, "deleted", args[0])
		},
	}
	return adminGroup("api", "Manage APIs (resource servers)", create, list, get, update, del)
}
