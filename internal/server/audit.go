package server

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/store"
)

// SpoolDir is where a node spools its audit events.
func SpoolDir(dataDir string) string { return filepath.Join(dataDir, "audit-spool") }

// newRecorder builds the audit recorder: durable through a spool in the
// data directory (and exporting when configured); in memory only when
// there is no data directory (PostgreSQL with GATEHOUSE_KEK and no
// data_dir), which the start log says.
func newRecorder(cfg config.Config, st store.AuditStore, log *slog.Logger) (*audit.Recorder, error) {
	if cfg.DataDir == "" {
		log.Warn("no data_dir: audit events are queued in memory, and a process crash can lose the last second of them")
		return audit.New(st, log), nil
	}
	policy, err := audit.ParseSync(cfg.AuditSpoolSync)
	if err != nil {
		return nil, fmt.Errorf("audit_spool_sync: %w", err)
	}
	var sink audit.Sink
	if cfg.AuditExport != "" {
		if sink, err = audit.OpenSink(cfg.AuditExport, cfg.AuditExportAuthorization); err != nil {
			return nil, fmt.Errorf("audit_export: %w", err)
		}
		log.Info("exporting audit events", "to", audit.RedactTarget(cfg.AuditExport))
	}
	sp, err := audit.OpenSpool(SpoolDir(cfg.DataDir), policy, log)
	if err != nil {
		return nil, err
	}
	return audit.NewDurable(st, sp, sink, log), nil
}

// watchAudit exports the spool's and the exporter's figures.
func watchAudit(m *metrics.Metrics, rec *audit.Recorder) {
	sp := rec.Spool()
	if sp == nil {
		return
	}
	m.CounterFunc("gatehouse_audit_spool_errors_total", "Audit events kept in memory because the spool could not be written.",
		func() float64 { return float64(rec.SpoolErrors()) })
	m.CounterFunc("gatehouse_audit_spool_damaged_total", "Damaged audit spool records skipped (a machine crash mid-write).",
		func() float64 { return float64(sp.Corrupt()) })
	m.Gauge("gatehouse_audit_spool_bytes", "Bytes in the audit spool's segments (removed once shipped and exported).",
		func() float64 { return float64(sp.Size()) })
	m.CounterFunc("gatehouse_audit_exported_total", "Audit events delivered to the export sink.",
		func() float64 { n, _ := rec.Exported(); return float64(n) })
	m.CounterFunc("gatehouse_audit_export_failures_total", "Failed deliveries to the audit export sink (retried).",
		func() float64 { _, n := rec.Exported(); return float64(n) })
}
