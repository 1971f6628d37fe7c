package server

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/gatehouse/gatehouse/internal/admin"
)

// otlpReceiver is a local OTLP/HTTP collector: it keeps the spans sent to
// /v1/traces.
type otlpReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
	raw   []byte
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	rc := &otlpReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.raw = append(rc.raw, body...)
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				rc.spans = append(rc.spans, ss.Spans...)
			}
		}
		rc.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func attrs(s *tracepb.Span) map[string]string {
	out := map[string]string{}
	for _, a := range s.Attributes {
		switch v := a.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			out[a.Key] = v.StringValue
		case *commonpb.AnyValue_BoolValue:
			if v.BoolValue {
				out[a.Key] = "true"
			} else {
				out[a.Key] = "false"
			}
		}
	}
	return out
}

// TestTracesReachCollector configures tracing the standard way (OTEL_*
// variables) and sends a token request carrying a caller's traceparent:
// a local OTLP receiver gets the token request's span, in the caller's
// trace, with client, audience, grant and outcome, and child spans for
// client authentication and minting; a refused request's span has its
// outcome and no client id; no secret or token is in anything sent.
func TestTracesReachCollector(t *testing.T) {
	rc := newOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rc.URL)
	t.Setenv("OTEL_SERVICE_NAME", "gatehouse-test")
	h := start(t, nil)
	if h.srv.tracer == nil {
		t.Fatal("tracing is off with OTEL_EXPORTER_OTLP_ENDPOINT set")
	}
	h.seedCatalog()
	c := h.newClient(admin.ClientInput{Name: ptr("traced"), Tenant: "acme",
		Grants: &map[string][]string{"https://api.sitecorecloud.io": {"personalize.flows:manage"}}})

	const traceID, callerSpan = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	hdr := http.Header{"Traceparent": {"00-" + traceID + "-" + callerSpan + "-01"}}
	status, _, body := h.post("/oauth/token", "application/x-www-form-urlencoded",
		form("grant_type", "client_credentials", "client_id", c.ClientID, "client_secret", c.ClientSecret, "audience", "https://api.sitecorecloud.io"), hdr)
	if status != 200 {
		t.Fatalf("token: got %d %s", status, body)
	}
	pasted := c.ClientSecret + "x" // a secret pasted as client_id
	if status, _, _ := h.post("/oauth/token", "application/x-www-form-urlencoded",
		form("grant_type", "client_credentials", "client_id", pasted, "client_secret", "nope", "audience", "https://api.sitecorecloud.io"), nil); status != 401 {
		t.Fatalf("a refused request: got %d, want 401", status)
	}
	if err := h.srv.tracer.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	var server *tracepb.Span
	children := map[string]*tracepb.Span{}
	var refused map[string]string
	for _, s := range rc.spans {
		a := attrs(s)
		switch {
		case s.Name == "POST /oauth/token" && hex.EncodeToString(s.TraceId) == traceID:
			server = s
		case s.Name == "POST /oauth/token":
			refused = a
		case s.Name == "authenticate client" || s.Name == "mint":
			if hex.EncodeToString(s.TraceId) == traceID {
				children[s.Name] = s
			}
		}
	}
	if server == nil {
		t.Fatalf("no span POST /oauth/token in the caller's trace among %d spans", len(rc.spans))
	}
	if got := hex.EncodeToString(server.ParentSpanId); got != callerSpan {
		t.Errorf("token span's parent: got %s, want the caller's %s", got, callerSpan)
	}
	want := map[string]string{"gatehouse.client_id": c.ClientID, "gatehouse.audience": "https://api.sitecorecloud.io",
		"gatehouse.grant": "client-credentials", "gatehouse.outcome": "issued", "gatehouse.tenant": "acme"}
	got := attrs(server)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("token span attribute %s: got %q, want %q", k, got[k], v)
		}
	}
	for _, name := range []string{"authenticate client", "mint"} {
		if s := children[name]; s == nil || string(s.ParentSpanId) != string(server.SpanId) {
			t.Errorf("child span %q of the token span: missing or under another parent", name)
		}
	}
	if refused == nil || refused["gatehouse.outcome"] != "invalid_client" || refused["gatehouse.client_id"] != "" {
		t.Errorf("refused request's span attributes: got %v, want outcome invalid_client and no client id", refused)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &tok)
	for what, secret := range map[string]string{"client secret": c.ClientSecret, "access token": tok.AccessToken, "pasted secret": pasted} {
		if secret != "" && strings.Contains(string(rc.raw), secret) {
			t.Errorf("the %s was sent to the collector", what)
		}
	}
}
