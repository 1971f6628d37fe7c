// Package proxy holds the one rule for whose forwarding headers count: a
// request's client address and host come from X-Forwarded-For and
// X-Forwarded-Host only when the connection's peer is a trusted proxy
// (DESIGN §2, §6). Every listener, the token endpoint's failure throttle
// and the console read addresses through it.
//
// CheckSettings checks the trusted-proxy list and the name of the header
// only those proxies may set, for `gatehouse serve` and the gateway alike.
//
// It must not hold policy about what an address may do; it only says who
// is asking.
package proxy
