// Package metrics defines gatehouse's Prometheus metrics on a registry of
// its own, served at /metrics. Labels are bounded: audiences are named as
// stored (a per-tenant template once, not once per tenant).
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every metric a node exports.
type Metrics struct {
	Registry *prometheus.Registry

	TokensIssued    *prometheus.CounterVec
	TokenErrors     *prometheus.CounterVec
	RequestDuration *prometheus.HistogramVec
	LegacyHostUse   *prometheus.CounterVec
	QuotaRejections *prometheus.CounterVec
	Throttled       prometheus.Counter
	AuditDropped    prometheus.Counter
}

// New registers the metrics, plus Go runtime and process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		TokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_tokens_issued_total", Help: "Access tokens issued, by tenant and API audience.",
		}, []string{"tenant", "audience"}),
		TokenErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_token_errors_total", Help: "Refused token, introspection and revocation requests, by OAuth error code.",
		}, []string{"error"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gatehouse_http_request_duration_seconds", Help: "HTTP request latency by route and status class.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "code"}),
		LegacyHostUse: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_legacy_host_requests_total", Help: "Requests that came to a deprecated legacy host name, by host.",
		}, []string{"host"}),
		QuotaRejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_quota_rejections_total", Help: "Token requests refused by a rate limit or quota, by limit.",
		}, []string{"limit"}),
		Throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_auth_throttled_total", Help: "Requests refused because of repeated failed authentication.",
		}),
		AuditDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_audit_events_dropped_total", Help: "Audit events dropped because the queue overflowed while the store was unreachable.",
		}),
	}
	r.MustRegister(m.TokensIssued, m.TokenErrors, m.RequestDuration, m.LegacyHostUse, m.QuotaRejections, m.Throttled, m.AuditDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// KeyInfo describes one signing key for the key-age gauge.
type KeyInfo struct {
	KID, Alg, State string
	CreatedAt       time.Time
}

// WatchKeys exports gatehouse_signing_key_age_seconds from list, read at scrape time.
func (m *Metrics) WatchKeys(list func() []KeyInfo) {
	m.Registry.MustRegister(&keyAges{list: list, desc: prometheus.NewDesc(
		"gatehouse_signing_key_age_seconds", "Age of each published signing key.", []string{"kid", "alg", "state"}, nil)})
}

// Gauge exports a value read at scrape time.
func (m *Metrics) Gauge(name, help string, read func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, read))
}

// CounterFunc exports a counter read at scrape time.
func (m *Metrics) CounterFunc(name, help string, read func() float64) {
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, read))
}

type keyAges struct {
	list func() []KeyInfo
	desc *prometheus.Desc
}

func (k *keyAges) Describe(ch chan<- *prometheus.Desc) { ch <- k.desc }

func (k *keyAges) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	for _, key := range k.list() {
		ch <- prometheus.MustNewConstMetric(k.desc, prometheus.GaugeValue, now.Sub(key.CreatedAt).Seconds(), key.KID, key.Alg, key.State)
	}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Observe records one request's latency.
func (m *Metrics) Observe(route string, status int, d time.Duration) {
	code := "2xx"
	switch {
	case status >= 500:
		code = "5xx"
	case status >= 400:
		code = "4xx"
	case status >= 300:
		code = "3xx"
	}
	m.RequestDuration.WithLabelValues(route, code).Observe(d.Seconds())
}
