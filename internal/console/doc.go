// Package console is gatehouse's web console: server-rendered pages under
// /console/ for the people who run the platform and for tenant
// administrators to manage tenants, environments, APIs, clients (API keys),
// signing keys and the audit log, and to see a client's token use.
//
// Every change goes through *admin.Service, the one place for the admin
// rules; this package holds only what is the browser's business: sign-in,
// sessions, CSRF, forms and templates. It must not reach into the store to
// change anything, and must not hold an admin token.
//
// Sign-in takes an admin client's client_id and client_secret (checked by
// the SignIn function, normally IssuerAuth, and counted by the token
// endpoint's failed-authentication throttle) or a one-time link made by
// `gatehouse console link`. A session is a stateless cookie signed with
// HMAC-SHA256 under a key the server passes in, so any node sharing that
// key serves it; signing out clears the cookie but cannot revoke a copy of
// it, so sessions are short (8h) and every request re-checks that the
// client still exists, is enabled and still holds its admin grant.
//
// One-time link codes are signed with the session key (any node sharing
// it opens them) and spent through the single-use cache, which every node
// on one database shares: a link signs in once, wherever it is used. They
// live 10 minutes.
//
// Templates, the stylesheet and the copy-button script are embedded; every
// page works without JavaScript.
package console
