// Package store holds gatehouse's persistent domain types and the one Store
// interface every backend implements (SQLite and PostgreSQL, in sqlstore).
//
// It holds plain values and the rules of their shape (what a valid tenant,
// API or client looks like); it must not know about HTTP, tokens on the wire,
// or caching. Every backend is checked by the shared suite in conformance.
package store
