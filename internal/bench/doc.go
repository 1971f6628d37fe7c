// Package bench is the load generator behind gatehouse's performance
// figures: Sign measures how fast this machine signs access tokens with
// gatehouse's own signing code (package keys), the ceiling for the token
// endpoint; Token drives a running server's POST /oauth/token, closed-loop
// by concurrency or open-loop at a fixed arrival rate, and can verify every
// token it gets against the server's JWKS. Token authenticates with a
// secret, or with a client assertion (private_key_jwt) it signs anew for
// every request, and can add a new DPoP proof to every request (jwt.go).
//
// Latencies go into a Histogram: log-bucketed like HdrHistogram, so a run
// of any length uses the same few kilobytes per worker and percentiles are
// within 1% of the exact value.
//
// The package measures and returns plain result values; it must not print
// (the command in cmd/gatehouse does) and must not reach into the server's
// packages beyond keys, which it needs to sign as the server does.
package bench
