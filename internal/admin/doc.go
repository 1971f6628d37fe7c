// Package admin is gatehouse's management layer: Service holds the rules of
// every admin change (what must exist, what is generated, what is hashed)
// and keeps the node's catalog in step; Handler exposes it as the JSON admin
// API under /admin/v1, protected by gatehouse's own tokens for the built-in
// audience urn:gatehouse:admin. The CLI and the console both go through it.
package admin
