package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

func newServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the token service (SQLite in --data-dir unless --db names PostgreSQL)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			log, err := logging.New(os.Stderr, cfg.LogLevel, cfg.LogFormat)
			if err != nil {
				return err
			}
			tuneGC()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := server.New(ctx, cfg, log, server.Options{})
			if err != nil {
				return err
			}
			return srv.Run(ctx)
		},
	}
	addConfigFlags(cmd.Flags())
	return cmd
}

// tuneGC trades memory for CPU unless GOGC says otherwise: the token
// endpoint allocates per request and its live heap is small (the catalog),
// so collecting at 4x the live heap instead of 2x roughly halves GC work
// (see the README's performance section).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// addConfigFlags defines a flag for every setting, with the default shown.
func addConfigFlags(fs *pflag.FlagSet) {
	def := config.Default()
	defaults := map[string]string{
		"addr": def.Addr, "data-dir": def.DataDir, "key-rotation": def.KeyRotation.String(),
		"key-publish-delay": def.KeyPublishDelay.String(), "log-level": def.LogLevel, "log-format": def.LogFormat,
		"audit-retention": def.AuditRetention.String(), "snapshot-every": def.SnapshotEvery.String(), "audit-spool-sync": def.AuditSpoolSync,
	}
	fs.String("config", "", "YAML config file (env GATEHOUSE_CONFIG)")
	for _, s := range config.Settings {
		usage := s.Usage + " (env " + s.Env + ")"
		if s.Flag == "legacy-host" || s.Flag == "trusted-proxy" {
			fs.StringArray(s.Flag, nil, usage)
			continue
		}
		fs.String(s.Flag, defaults[s.Flag], usage)
	}
}

// loadConfig merges defaults, the YAML file, GATEHOUSE_* variables and the
// flags given on the command line, then validates.
func loadConfig(fs *pflag.FlagSet) (config.Config, error) {
	cfg := config.Default()
	file, _ := fs.GetString("config")
	if file == "" {
		file = os.Getenv("GATEHOUSE_CONFIG")
	}
	if file != "" {
		if err := cfg.LoadFile(file); err != nil {
			return cfg, err
		}
	}
	if err := cfg.LoadEnv(os.Getenv); err != nil {
		return cfg, err
	}
	var err error
	fs.Visit(func(f *pflag.Flag) {
		if err != nil || f.Name == "config" {
			return
		}
		value := f.Value.String()
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			value = strings.Join(sv.GetSlice(), ",")
		}
		err = cfg.Set(f.Name, value)
	})
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func newMigrateCmd() *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded database migrations and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if db == "" {
				db = os.Getenv("GATEHOUSE_DB")
			}
			if db == "" {
				dir := os.Getenv("GATEHOUSE_DATA_DIR")
				if dir == "" {
					dir = config.Default().DataDir
				}
				db = sqlstore.SQLitePath(dir)
			}
			n, err := sqlstore.Migrate(context.Background(), db)
			if err != nil {
				return err
			}
			if structured(cmd) {
				return printDoc(cmd, map[string]int{"applied": n})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "applied %d migration(s)\n", n)
			return nil
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "database: postgres://... or an SQLite file (default: GATEHOUSE_DB, else SQLite in GATEHOUSE_DATA_DIR)")
	return cmd
}
