// Package oauth holds the OAuth 2.0 wire protocol that every gatehouse
// endpoint shares: the RFC 6749 §5.2 error type and its JSON form, and the
// parsing of token requests (form or JSON bodies, client_secret_basic and
// client_secret_post).
//
// It decides nothing about clients, APIs or tokens; it only reads and writes
// the protocol.
package oauth
