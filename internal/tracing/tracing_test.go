package tracing

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestEnabled(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, false},
		{map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, false},
	}
	for _, tt := range tests {
		if got := Enabled(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("Enabled(%v): got %v, want %v", tt.env, got, tt.want)
		}
	}
}

// TestStepOffAllocatesNothing: off is the default, and the hot path's
// steps must cost nothing then.
func TestStepOffAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() {
		_, s := Step(ctx, "mint")
		s.End()
	}); n != 0 {
		t.Errorf("Step without a traced request: %v allocations, want 0", n)
	}
}

func TestStepUnderATracedRequest(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr := NewForTest(rec)
	ctx, parent := tr.provider.Tracer("t").Start(context.Background(), "request")
	_, s := Step(ctx, "mint")
	s.End()
	parent.End()
	ended := rec.Ended()
	if len(ended) != 2 || ended[0].Name() != "mint" || ended[0].Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("spans: got %d, want mint under request", len(ended))
	}
	var nilTracer *Tracer
	if nilTracer.Shutdown(context.Background()) != nil || nilTracer.Flush(context.Background()) != nil {
		t.Error("a nil Tracer must be off, not an error")
	}
}

func BenchmarkStep(b *testing.B) {
	b.Run("off", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			_, s := Step(ctx, "mint")
			s.End()
		}
	})
	b.Run("on", func(b *testing.B) {
		tr := NewForTest(sdktrace.NewBatchSpanProcessor(tracetest.NewNoopExporter()))
		defer tr.Shutdown(context.Background())
		ctx, parent := tr.provider.Tracer("t").Start(context.Background(), "request")
		defer parent.End()
		b.ReportAllocs()
		for b.Loop() {
			_, s := Step(ctx, "mint")
			s.End()
		}
	})
}
