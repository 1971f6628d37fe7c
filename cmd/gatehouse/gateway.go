package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/gateway"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/tracing"
)

func newGatewayCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Run the reverse proxy that checks gatehouse tokens in front of product APIs",
		Long: `Run a reverse proxy in front of product APIs. Each request needs a valid
gatehouse access token for its route's API: JWTs are verified locally and
checked against the revocations polled from gatehouse; opaque tokens are
introspected (with a short cache). On /{service}/v1/{apiKey}/... routes the
token must have been issued for that service and that environment.

Upstreams receive X-Gatehouse-Client-Id, X-Gatehouse-Tenant,
X-Gatehouse-Environment and X-Gatehouse-Scopes; the same headers sent by a
caller are removed. SIGTERM or Ctrl-C stops accepting connections and lets
requests in flight finish.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := gateway.LoadFile(file)
			if err != nil {
				return err
			}
			log, err := logging.New(os.Stderr, cfg.LogLevel, cfg.LogFormat)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			tracer, err := tracing.Setup(ctx, "gateway")
			if err != nil {
				return fmt.Errorf("tracing (OTEL_* settings): %w", err)
			}
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				tracer.Shutdown(sctx)
			}()
			g, err := gateway.New(ctx, cfg, log, gateway.Options{Tracer: tracer})
			if err != nil {
				return err
			}
			return g.Run(ctx)
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "gateway YAML config file (required)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
