// Package tracing holds gatehouse's OpenTelemetry traces: whether the
// standard OTEL_* environment asks for them, the OTLP/HTTP exporter, the
// server span of each request (the official otelhttp instrumentation,
// which also carries W3C traceparent in and out), and Step, the child span
// of a slow step that costs nothing while tracing is off.
//
// It must not put a secret or a token in a span: callers add attributes,
// and add only identifiers (client id, audience, grant, outcome).
package tracing
