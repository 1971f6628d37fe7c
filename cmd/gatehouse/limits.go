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
}

// limitFlags reads --rate-limit N/s and --quota N/h|N/d; nil when neither
// was given.
func limitFlags(fs *pflag.FlagSet) (*store.Limits, error) {
	if !fs.Changed("rate-limit") && !fs.Changed("quota") {
		return nil, nil
	}
	var l store.Limits
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
