package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/internal/store"
)

func addLimitFlags(fs *pflag.FlagSet) {
	fs.String("rate-limit", "", "token requests a second, e.g. 50/s (0 removes it)")
	fs.StringArray("quota", nil, "tokens an hour or a day, e.g. 1000/h or 20000/d (repeatable; 0/h removes one)")
	addLimitModeFlag(fs)
}

func addLimitModeFlag(fs *pflag.FlagSet) {
	fs.String("limit-mode", "", "enforce (refuse past a limit; the default) or log-only (let through, log and count)")
}

// limitFlagNames are the flags limitFlags reads.
var limitFlagNames = []string{"rate-limit", "quota", "limit-mode"}

// limitsChanged reports whether a limit flag was given.
func limitsChanged(fs *pflag.FlagSet) bool {
	for _, f := range limitFlagNames {
		if fs.Changed(f) {
			return true
		}
	}
	return false
}

// limitFlags reads --rate-limit N/s, --quota N/h|N/d and --limit-mode
// over base (what is set now: a flag not given leaves its limit alone);
// nil when none was given.
func limitFlags(fs *pflag.FlagSet, base store.Limits) (*store.Limits, error) {
	if !limitsChanged(fs) {
		return nil, nil
	}
	l := base
	if fs.Changed("limit-mode") {
		v, _ := fs.GetString("limit-mode")
		if v != store.LimitEnforce && v != store.LimitLogOnly {
			return nil, fmt.Errorf("--limit-mode %q: write enforce or log-only", v)
		}
		l.Mode = v
	}
	if fs.Changed("rate-limit") {
		v, _ := fs.GetString("rate-limit")
		n, err := parsePer(v, "s")
		if err != nil {
			return nil, fmt.Errorf("--rate-limit: %w", err)
		}
		l.RatePerSecond = n
	}
	quotas, _ := fs.GetStringArray("quota")
	for _, q := range quotas {
		switch {
		case strings.HasSuffix(q, "/h"):
			n, err := parsePer(q, "h")
			if err != nil {
				return nil, fmt.Errorf("--quota: %w", err)
			}
			l.QuotaHour = n
		case strings.HasSuffix(q, "/d"):
			n, err := parsePer(q, "d")
			if err != nil {
				return nil, fmt.Errorf("--quota: %w", err)
			}
			l.QuotaDay = n
		default:
			return nil, fmt.Errorf("--quota %q: write N/h or N/d", q)
		}
	}
	return &l, nil
}

// parsePer reads "N/unit" (or a bare N) as a non-negative count.
func parsePer(v, unit string) (int64, error) {
	num := strings.TrimSuffix(v, "/"+unit)
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a count like 100/%s", v, unit)
	}
	return n, nil
}

// limitMode names the mode of l for display.
func limitMode(l store.Limits) string {
	if l.Mode == "" {
		return store.LimitEnforce
	}
	return l.Mode
}
