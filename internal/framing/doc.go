// Package framing refuses HTTP/1.1 requests whose length could be read two
// ways: those carrying both Content-Length and Transfer-Encoding (RFC 9112
// §6.3: "ought to be handled as an error"; the classic request-smuggling
// pair). Go's net/http drops Content-Length from such a request before any
// handler runs, so the check reads the request heads off the connection
// itself: Listener (and TLSListener, which keeps HTTP/2 untouched) flag a
// connection on which such a head arrived, and Middleware answers every
// request on a flagged connection 400 and closes it.
//
// Every listener gatehouse serves (public, admin, gateway) is built with
// it. It imports only the standard library.
package framing
