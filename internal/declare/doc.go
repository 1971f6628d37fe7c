// Package declare holds gatehouse's declarative configuration: the
// document that `gatehouse apply -f FILE` makes true on a server and that
// `gatehouse export` writes (tenants, environments, APIs, clients,
// federation trusts with their rules), the plan that compares it with the
// server, and the diff it prints.
//
// Every change goes through the admin API (Admin, which adminclient.Client
// is), so the admin rules stay in internal/admin: this package only
// checks a whole document first (fields, references, duplicates), so
// that a bad file changes nothing, and decides what to create, update and
// delete. Object kinds are entries of one table (kind.go): a new kind is
// one more entry. It never reads, writes or prints a stored secret; a new
// client's generated secret is shown once, as `client create` shows it.
package declare
