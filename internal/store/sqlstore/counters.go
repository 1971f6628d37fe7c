package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// maxLeases bounds one LeaseCounters call.
const maxLeases = 1000

// leaseGrant is what a lease gets from a counter whose count was used
// (before the charge): up to want while the count stays within limit.
// The same rule is written in SQL in leaseUpsert, for a counter that exists.
func leaseGrant(used, limit, charge, want int64) int64 {
	if limit <= 0 {
		return want
	}
	return min(want, max(0, limit-used-charge))
}

// leaseUpsert adds a lease to a counter in one statement, so that callers
// on every node serialise on the row: the SET expressions all read the
// row as it was, and last_grant records what this lease got.
const leaseUpsert = `INSERT INTO limit_counters (counter_key, window_start, used, last_grant, expires_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (counter_key, window_start) DO UPDATE SET
  used = limit_counters.used + CAST(? AS BIGINT) + ` + grantSQL + `,
  last_grant = ` + grantSQL + `,
  expires_at = excluded.expires_at
RETURNING used, last_grant`

// grantSQL is leaseGrant on the stored row; its parameters are, in order,
// limit, want, limit, charge, limit, charge, want, limit, charge, want.
const grantSQL = `(CASE WHEN CAST(? AS BIGINT) <= 0 THEN CAST(? AS BIGINT)
  WHEN CAST(? AS BIGINT) - limit_counters.used - CAST(? AS BIGINT) <= 0 THEN 0
  WHEN CAST(? AS BIGINT) - limit_counters.used - CAST(? AS BIGINT) < CAST(? AS BIGINT) THEN CAST(? AS BIGINT) - limit_counters.used - CAST(? AS BIGINT)
  ELSE CAST(? AS BIGINT) END)`

func (s *Store) LeaseCounters(ctx context.Context, leases []store.CounterLease) ([]store.CounterGrant, error) {
	if len(leases) == 0 {
		return nil, nil
	}
	if len(leases) > maxLeases {
		return nil, fmt.Errorf("leasing %d counters: at most %d at once", len(leases), maxLeases)
	}
	// Rows are locked in one order on every node, so that two batches in
	// flight never wait on each other in a cycle.
	order := make([]int, len(leases))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		la, lb := leases[order[a]], leases[order[b]]
		if la.Key != lb.Key {
			return la.Key < lb.Key
		}
		return la.Window.Before(lb.Window)
	})
	out := make([]store.CounterGrant, len(leases))
	query := s.f.rebind(leaseUpsert)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, i := range order {
			l := leases[i]
			g := grantArgs(l)
			first := leaseGrant(0, l.Limit, max(l.Charge, 0), l.Want)
			args := append([]any{l.Key, micros(l.Window), max(l.Charge, 0) + first, first, micros(l.ExpiresAt), l.Charge}, g...)
			args = append(args, g...)
			if err := tx.QueryRowContext(ctx, query, args...).Scan(&out[i].Total, &out[i].Granted); err != nil {
				return s.wrap(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// grantArgs are grantSQL's parameters for l.
func grantArgs(l store.CounterLease) []any {
	return []any{l.Limit, l.Want, l.Limit, l.Charge, l.Limit, l.Charge, l.Want, l.Limit, l.Charge, l.Want}
}

func (s *Store) ListCounters(ctx context.Context, t time.Time) ([]store.Counter, error) {
	return listRows(ctx, s, func(r row) (store.Counter, error) {
		var c store.Counter
		var window int64
		err := r.Scan(&c.Key, &window, &c.Total)
		c.Window = fromMicros(window)
		return c, err
	}, `SELECT counter_key, window_start, used FROM limit_counters WHERE expires_at > ? ORDER BY counter_key, window_start`, micros(t))
}
