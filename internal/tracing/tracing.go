package tracing

import (
	"context"
	"net/http"
	"os"
	"strings"

	"runtime/debug"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// Enabled reports whether the environment asks for traces: an OTLP
// endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT) or
// OTEL_TRACES_EXPORTER=otlp, unless OTEL_TRACES_EXPORTER=none or
// OTEL_SDK_DISABLED=true. Off is the default.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch exp := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))); exp {
	case "otlp":
		return true
	case "":
		return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	default: // "none", or an exporter gatehouse does not offer
		return false
	}
}

// Tracer is a node's tracing: nil when off, which every method accepts.
type Tracer struct {
	provider *sdktrace.TracerProvider
}

// Setup starts an OTLP over HTTP exporter configured by the standard
// OTEL_* variables (endpoint, headers, timeout, protocol options; the
// sampler by OTEL_TRACES_SAMPLER; the service name by OTEL_SERVICE_NAME,
// "gatehouse" by default) when Enabled says so, or returns nil. The
// exporter sends in batches from the background: a request never waits
// on the collector.
func Setup(ctx context.Context, component string) (*Tracer, error) {
	if !Enabled(os.Getenv) {
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, err
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceVersion(moduleVersion()), attribute.String("gatehouse.component", component)))
	if err != nil {
		return nil, err
	}
	if os.Getenv("OTEL_SERVICE_NAME") == "" && !strings.Contains(os.Getenv("OTEL_RESOURCE_ATTRIBUTES"), "service.name=") {
		res, _ = resource.Merge(res, resource.NewSchemaless(semconv.ServiceName("gatehouse")))
	}
	return &Tracer{provider: sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))}, nil
}

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// NewForTest is a Tracer over a span processor of the test's choosing.
func NewForTest(sp sdktrace.SpanProcessor) *Tracer {
	return &Tracer{provider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sp))}
}

// Flush sends the spans ended so far.
func (t *Tracer) Flush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.ForceFlush(ctx)
}

// Shutdown sends the spans still queued and stops the exporter.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Handler gives each request through h a server span named after its
// method and route (route returns a pattern such as /oauth/token or
// /admin/v1/clients/{id}, never a path with identifiers in it, which
// would make names unbounded), continuing the caller's traceparent. Off,
// it is h itself.
func (t *Tracer) Handler(h http.Handler, route func(*http.Request) string) http.Handler {
	if t == nil {
		return h
	}
	return otelhttp.NewHandler(h, "gatehouse",
		otelhttp.WithTracerProvider(t.provider), otelhttp.WithPropagators(propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + route(r) }))
}

// Transport gives each request through rt a client span and a
// traceparent header naming it, so the next hop continues the trace.
// Off, it is rt itself (a traceparent the request already carries passes
// through unchanged).
func (t *Tracer) Transport(rt http.RoundTripper) http.RoundTripper {
	if t == nil {
		return rt
	}
	return otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(t.provider), otelhttp.WithPropagators(propagator))
}

// Step starts a child span for a slow step of the request in ctx, when
// that request is being traced; otherwise it returns ctx and a span that
// does nothing, without allocating. End the span when the step ends.
func Step(ctx context.Context, name string) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent
	}
	return parent.TracerProvider().Tracer("gatehouse").Start(ctx, name)
}
