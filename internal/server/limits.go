package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/limits"
	"github.com/gatehouse/gatehouse/internal/store"
)

// watchLimits logs and counts limits gone over (once per subject, limit
// and window on this node; enforced or log-only), and exports whether
// the limiter is counting locally because the store is unreachable.
func (s *Server) watchLimits() {
	exceeded := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_limits_exceeded_total",
		Help: "Limits and quotas gone over, once per subject, limit and window on each node, by limit and mode.",
	}, []string{"limit", "mode"})
	s.metrics.Registry.MustRegister(exceeded)
	s.limiter.OnOver = func(o limits.Over) {
		mode := store.LimitLogOnly
		if o.Enforced {
			mode = store.LimitEnforce
		}
		exceeded.WithLabelValues(o.Limit, mode).Inc()
		s.log.Warn("limit reached", "subject", o.Subject, "limit", o.Limit, "max", o.Max, "mode", mode)
	}
	s.metrics.Gauge("gatehouse_limits_counting_locally", "1 while limits are counted on this node alone because the store is unreachable.", func() float64 {
		if s.limiter.Down() {
			return 1
		}
		return 0
	})
}
