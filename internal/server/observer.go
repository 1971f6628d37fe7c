package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/jsonw"
	"github.com/gatehouse/gatehouse/internal/limits"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/oauth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/token"
)

// tokenObserver turns token endpoint outcomes into metrics and audit events.
type tokenObserver struct {
	metrics *metrics.Metrics
	audit   *audit.Recorder
}

// issuance is the detail of a token.issued audit event.
type issuance struct {
	Audience string `json:"audience"`
	Scope    string `json:"scope"`
	JTI      string `json:"jti"`
	Expires  int64  `json:"exp"`
	Service  string `json:"service,omitempty"`
	Source   string `json:"source"`
	Reused   bool   `json:"reused,omitempty"`
	// Grant is the gty; External and Act say who acted for a federated
	// or delegated token.
	Grant    string          `json:"grant,omitempty"`
	External *token.External `json:"ext,omitempty"`
	Act      map[string]any  `json:"act,omitempty"`
	Subject  string          `json:"sub,omitempty"`
}

// AppendJSON writes the detail as json.Marshal would (TestIssuanceJSON
// compares them), so a token request's audit event costs no reflection;
// the rare act chain still goes through encoding/json.
func (d issuance) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	b = jsonw.AppendField(b, "audience", d.Audience)
	b = jsonw.AppendField(b, "scope", d.Scope)
	b = jsonw.AppendField(b, "jti", d.JTI)
	b = strconv.AppendInt(jsonw.AppendKey(b, "exp"), d.Expires, 10)
	if d.Service != "" {
		b = jsonw.AppendField(b, "service", d.Service)
	}
	b = jsonw.AppendField(b, "source", d.Source)
	if d.Reused {
		b = append(jsonw.AppendKey(b, "reused"), "true"...)
	}
	if d.Grant != "" {
		b = jsonw.AppendField(b, "grant", d.Grant)
	}
	if d.External != nil {
		b = d.External.AppendJSON(jsonw.AppendKey(b, "ext"))
	}
	if len(d.Act) > 0 {
		act, err := json.Marshal(d.Act)
		if err != nil {
			return b, err
		}
		b = append(jsonw.AppendKey(b, "act"), act...)
	}
	if d.Subject != "" {
		b = jsonw.AppendField(b, "sub", d.Subject)
	}
	return append(b, '}'), nil
}

func (o *tokenObserver) Issued(r *http.Request, g *token.Grant, addr string) {
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetAttributes(attribute.String("gatehouse.client_id", g.Client.ID), attribute.String("gatehouse.tenant", g.Client.Tenant),
			attribute.String("gatehouse.audience", g.Audience), attribute.String("gatehouse.grant", g.Type),
			attribute.String("gatehouse.outcome", "issued"), attribute.Bool("gatehouse.reused", g.Reused))
	}
	o.metrics.TokensIssued.WithLabelValues(g.Client.Tenant, g.API.Audience).Inc()
	o.audit.Record(store.AuditTokenIssued, g.Client.ID, g.Client.ID, g.Audience, issuance{
		Audience: g.Audience, Scope: g.Scope, JTI: g.JTI, Expires: g.ExpiresAt.Unix(),
		Service: g.Service, Source: addr, Reused: g.Reused,
		Grant: g.Type, External: g.External, Act: g.Act, Subject: g.Subject,
	})
}

// Refused names no client: a refused request's client_id may be anything,
// a secret pasted into the wrong field included.
func (o *tokenObserver) Refused(r *http.Request, e *oauth.Error) {
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetAttributes(attribute.String("gatehouse.outcome", e.Code))
	}
	o.metrics.TokenErrors.WithLabelValues(e.Code).Inc()
	var refusal *federation.Refusal
	if errors.As(e, &refusal) {
		// The client saw a generic invalid_grant; the audit log says
		// which trusts and rules were tried and why each failed.
		o.audit.Record(store.AuditTokenRefused, "", "", refusal.Issuer, refusal)
	}
	var exceeded limits.ExceededError
	switch {
	case errors.As(e, &exceeded):
		o.metrics.QuotaRejections.WithLabelValues(exceeded.Limit).Inc()
	case e.Status == http.StatusTooManyRequests:
		o.metrics.Throttled.Inc()
	}
}

// adminAuditor records admin changes with the acting client.
func adminAuditor(rec *audit.Recorder) func(ctx context.Context, kind, target string, before, after any) {
	return func(ctx context.Context, kind, target string, before, after any) {
		clientID := ""
		if strings.HasPrefix(kind, "client.") {
			clientID = target
		}
		rec.Record(kind, admin.Actor(ctx), clientID, target, map[string]any{"before": before, "after": after})
	}
}

// routeOf names a path for the latency histogram, with bounded labels.
func routeOf(path string) string {
	switch {
	case path == "/oauth/token":
		return "token"
	case path == "/oauth/introspect":
		return "introspect"
	case path == "/oauth/revoke":
		return "revoke"
	case path == "/oauth/revocations":
		return "revocations"
	case strings.HasSuffix(path, "/v1/oauth2/token"):
		return "service_token"
	case strings.HasPrefix(path, "/.well-known/"):
		return "wellknown"
	case strings.HasPrefix(path, "/admin/"):
		return "admin"
	case strings.HasPrefix(path, "/console"):
		return "console"
	case path == "/healthz" || path == "/readyz":
		return "health"
	case path == "/metrics":
		return "metrics"
	}
	return "other"
}

// spanRoute names a traced request by the pattern mux routes it to, the
// per-service token path by its pattern: never by a path carrying an id.
func spanRoute(mux *http.ServeMux) func(*http.Request) string {
	return func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		if _, path, ok := strings.Cut(pattern, " "); ok {
			pattern = path
		}
		if pattern == "/" {
			if _, ok := token.ServiceFromPath(r.URL.Path); ok {
				return "/{service}/v1/oauth2/token"
			}
		}
		if pattern == "" {
			return "(no route)"
		}
		return pattern
	}
}
