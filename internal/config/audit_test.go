package config_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

// TestAuditSettings: the spool's fsync policy and the export target come
// from flags and the environment (the HTTP sink's Authorization header
// from the environment only), and wrong values stop the start.
func TestAuditSettings(t *testing.T) {
	c := config.Default()
	if c.AuditSpoolSync != "1s" || c.AuditExport != "" {
		t.Errorf("defaults: got sync %q export %q, want 1s and off", c.AuditSpoolSync, c.AuditExport)
	}
	env := map[string]string{
		"GATEHOUSE_AUDIT_SPOOL_SYNC":           "always",
		"GATEHOUSE_AUDIT_EXPORT":               "https://logs.example.io/ingest",
		"GATEHOUSE_AUDIT_EXPORT_AUTHORIZATION": "Bearer abc",
	}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.AuditSpoolSync != "always" || c.AuditExport != "https://logs.example.io/ingest" || c.AuditExportAuthorization != "Bearer abc" {
		t.Errorf("from the environment: got %q %q %q", c.AuditSpoolSync, c.AuditExport, c.AuditExportAuthorization)
	}
	if err := c.Set("audit-export", "file:/var/log/gatehouse/audit.jsonl"); err != nil || c.AuditExport != "file:/var/log/gatehouse/audit.jsonl" {
		t.Errorf("--audit-export: got %q (%v)", c.AuditExport, err)
	}
	if err := c.Set("audit-spool-sync", "250ms"); err != nil || c.AuditSpoolSync != "250ms" {
		t.Errorf("--audit-spool-sync: got %q (%v)", c.AuditSpoolSync, err)
	}

	tests := []struct {
		name   string
		modify func(c *config.Config)
		want   string
	}{
		{"sync not a policy", func(c *config.Config) { c.AuditSpoolSync = "sometimes" }, "audit_spool_sync"},
		{"sync zero", func(c *config.Config) { c.AuditSpoolSync = "0s" }, "audit_spool_sync"},
		{"export typo", func(c *config.Config) { c.AuditExport = "stdot" }, "audit_export"},
		{"export bare path", func(c *config.Config) { c.AuditExport = "/var/log/a.jsonl" }, "file:PATH"},
		{"export without data dir", func(c *config.Config) {
			c.AuditExport, c.DataDir, c.DB = "stdout", "", "postgres://h/db"
		}, "audit_export needs data_dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.modify(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	for _, ok := range []string{"always", "never", "1s"} {
		c := config.Default()
		c.AuditSpoolSync, c.AuditExport = ok, "stdout"
		if err := c.Validate(); err != nil {
			t.Errorf("sync %q with export to stdout: got %v, want nil", ok, err)
		}
	}
}
