package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/gatehouse/gatehouse/internal/gateway"
	"github.com/gatehouse/gatehouse/internal/tracing"
)

// TestGatewayCarriesTraceparent: with tracing off, a caller's traceparent
// reaches the upstream unchanged; with it on, the gateway's server span
// continues the caller's trace and the upstream gets a traceparent naming
// the gateway's own client span in that trace.
func TestGatewayCarriesTraceparent(t *testing.T) {
	fg := startFakeGatehouse(t)
	up := startUpstream(t)
	tok := fg.jwt(t, ordersAudience, "orders:read", nil)
	const traceID, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	incoming := "00-" + traceID + "-" + callerSpan + "-01"
	call := func(t *testing.T, base string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/orders/42", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Traceparent", incoming)
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e echo
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&e) != nil {
			t.Fatalf("GET /orders/42: got %d, want 200 from the upstream", resp.StatusCode)
		}
		return e.Headers.Get("Traceparent")
	}

	t.Run("off", func(t *testing.T) {
		base := startBindingGateway(t, fg, bindingConfig(up.URL), gateway.Options{})
		if got := call(t, base); got != incoming {
			t.Errorf("upstream's traceparent: got %q, want the caller's %q", got, incoming)
		}
	})
	t.Run("on", func(t *testing.T) {
		rec := tracetest.NewSpanRecorder()
		base := startBindingGateway(t, fg, bindingConfig(up.URL), gateway.Options{Tracer: tracing.NewForTest(rec)})
		got := call(t, base)
		parts := strings.Split(got, "-")
		if len(parts) != 4 || parts[1] != traceID || parts[2] == callerSpan {
			t.Fatalf("upstream's traceparent: got %q, want trace %s with the gateway's span as parent", got, traceID)
		}
		var server, client bool
		for _, s := range rec.Ended() {
			if s.SpanContext().TraceID().String() != traceID {
				t.Errorf("span %q is in trace %s, want %s", s.Name(), s.SpanContext().TraceID(), traceID)
			}
			switch {
			case s.Name() == "GET /orders/" && s.Parent().SpanID().String() == callerSpan:
				server = true
			case s.SpanContext().SpanID().String() == parts[2]:
				client = true
			}
		}
		if !server || !client {
			t.Errorf("spans: got %d (server span continuing the caller's: %v; client span named upstream: %v)", len(rec.Ended()), server, client)
		}
	})
}
