// Package audit records who did what and when: admin changes and token
// issuance.
//
// With a spool (NewDurable), Record appends each event to an append-only
// file in the data directory and returns once it is written, so the token
// that caused it leaves the node only after its event is safe from a
// process crash (what a machine crash can lose is the spool's fsync
// policy). Concurrent records share one write (group commit). A shipper
// carries spooled events to the store in batches from a durable cursor;
// event ids make a repeated batch harmless. An exporter streams the same
// events as JSON lines to stdout, a file or an HTTP endpoint, from its own
// cursor, retrying with back-off: at least once, and a restart resumes
// where it stopped. Spool segments are removed once both have passed them.
//
// Without a spool (New), events are queued in memory and written to the
// store in batches off the request path; a failed batch is kept and
// retried, and Close writes everything still queued.
package audit
