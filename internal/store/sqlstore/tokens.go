package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

const opaqueColumns = `hash, client_id, audience, scopes, tenant, environment, service, jti, issued_at, expires_at, cnf`

func (s *Store) CreateOpaqueToken(ctx context.Context, t store.OpaqueToken) error {
	scopes, _ := json.Marshal(t.Scopes)
	var cnf string
	if t.Confirmation.Bound() {
		b, _ := json.Marshal(t.Confirmation)
		cnf = string(b)
	}
	return s.insert(ctx, "opaque token", `INSERT INTO opaque_tokens (`+opaqueColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.ClientID, t.Audience, string(scopes), t.Tenant, t.Environment, t.Service, t.JTI, micros(t.IssuedAt), micros(t.ExpiresAt), cnf)
}

func scanOpaqueToken(r row) (store.OpaqueToken, error) {
	var t store.OpaqueToken
	var scopes, cnf string
	var issued, expires int64
	if err := r.Scan(&t.Hash, &t.ClientID, &t.Audience, &scopes, &t.Tenant, &t.Environment, &t.Service, &t.JTI, &issued, &expires, &cnf); err != nil {
		return t, err
	}
	if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
		return t, fmt.Errorf("opaque token: decoding scopes: %w", err)
	}
	if cnf != "" {
		if err := json.Unmarshal([]byte(cnf), &t.Confirmation); err != nil {
			return t, fmt.Errorf("opaque token: decoding cnf: %w", err)
		}
	}
	t.IssuedAt, t.ExpiresAt = fromMicros(issued), fromMicros(expires)
	return t, nil
}

func (s *Store) GetOpaqueToken(ctx context.Context, hash string) (store.OpaqueToken, error) {
	return getRow(ctx, s, "opaque token", scanOpaqueToken, `SELECT `+opaqueColumns+` FROM opaque_tokens WHERE hash = ?`, hash)
}

func (s *Store) DeleteOpaqueToken(ctx context.Context, hash string) error {
	res, err := s.exec(ctx, `DELETE FROM opaque_tokens WHERE hash = ?`, hash)
	return s.deleted("opaque token", res, err)
}

func (s *Store) PurgeExpired(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	for _, q := range []string{`DELETE FROM opaque_tokens WHERE expires_at < ?`, `DELETE FROM revocations WHERE expires_at < ?`, `DELETE FROM used_ids WHERE expires_at < ?`, `DELETE FROM limit_counters WHERE expires_at < ?`} {
		res, err := s.exec(ctx, q, micros(t))
		if err != nil {
			return total, s.wrap(err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

func (s *Store) Revoke(ctx context.Context, r store.Revocation) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.f.rebind(`INSERT INTO revocations (jti, client_id, revoked_at, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (jti) DO NOTHING`),
			r.JTI, r.ClientID, micros(r.RevokedAt), micros(r.ExpiresAt))
		if err != nil {
			return s.writeErr("revocation "+r.JTI, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return s.wrap(err) // revoking twice is revoking once: no second change
		}
		return s.recordChange(ctx, tx, store.ChangeRevocation, r.JTI)
	})
}

func scanRevocation(r row) (store.Revocation, error) {
	var v store.Revocation
	var revoked, expires int64
	err := r.Scan(&v.JTI, &v.ClientID, &revoked, &expires)
	v.RevokedAt, v.ExpiresAt = fromMicros(revoked), fromMicros(expires)
	return v, err
}

func (s *Store) ListRevocations(ctx context.Context, since time.Time) ([]store.Revocation, error) {
	return listRows(ctx, s, scanRevocation, `SELECT jti, client_id, revoked_at, expires_at FROM revocations WHERE revoked_at >= ? AND expires_at >= ? ORDER BY revoked_at`,
		micros(since), time.Now().UnixMicro())
}

// auditRowsPerStatement bounds one multi-row INSERT (7 parameters a row;
// well under both databases' parameter limits).
const auditRowsPerStatement = 200

const (
	auditInsertHead = `INSERT INTO audit_events (id, at, kind, actor, client_id, target, detail) VALUES `
	auditInsertRow  = `(?, ?, ?, ?, ?, ?, ?)`
	// A retried batch may hold events already written: skip those.
	auditInsertTail = ` ON CONFLICT (id) DO NOTHING`
)

// auditInsert is AppendAudit's statement text in one flavor: the full
// batch's is built once per store, a shorter last batch's when it comes.
type auditInsert struct {
	f    flavor
	full string // the statement for auditRowsPerStatement rows
}

func newAuditInsert(f flavor) *auditInsert {
	return &auditInsert{f: f, full: auditStatement(f, auditRowsPerStatement)}
}

func (ins *auditInsert) statement(n int) string {
	if n == auditRowsPerStatement {
		return ins.full
	}
	return auditStatement(ins.f, n)
}

// auditStatement is the INSERT of n rows, placeholders numbered where the
// flavor numbers them.
func auditStatement(f flavor, n int) string {
	return f.rebind(auditInsertHead + strings.Repeat(auditInsertRow+",", n-1) + auditInsertRow + auditInsertTail)
}

// auditArgs are AppendAudit's argument slices, reused across batches.
var auditArgs = sync.Pool{New: func() any { a := make([]any, 0, auditRowsPerStatement*7); return &a }}

func (s *Store) AppendAudit(ctx context.Context, events []store.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	ap := auditArgs.Get().(*[]any)
	defer auditArgs.Put(ap)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// A batch repeats kinds, clients and audiences: a row whose value is
		// the previous row's passes the same interface value, so it is not
		// boxed again (a client id equal to the actor passes the actor's).
		var kind, actor, target any
		for len(events) > 0 {
			n := min(len(events), auditRowsPerStatement)
			args := (*ap)[:0]
			for _, e := range events[:n] {
				kind, actor, target = sameOr(kind, e.Kind), sameOr(actor, e.Actor), sameOr(target, e.Target)
				args = append(args, e.ID, micros(e.At), kind, actor, sameOr(actor, e.ClientID), target, e.Detail)
			}
			_, err := tx.ExecContext(ctx, s.audit.statement(n), args...)
			clear(args) // the pool keeps no events
			if err != nil {
				return s.wrap(err)
			}
			events = events[n:]
		}
		return nil
	})
}

// sameOr is prev when it holds v, else v boxed.
func sameOr(prev any, v string) any {
	if p, ok := prev.(string); ok && p == v {
		return prev
	}
	return v
}

func (s *Store) PurgeAudit(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM audit_events WHERE at < ?`, micros(t))
	if err != nil {
		return 0, s.wrap(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	q := `SELECT id, at, kind, actor, client_id, target, detail FROM audit_events WHERE 1 = 1`
	var args []any
	if f.ClientID != "" {
		q += ` AND client_id = ?`
		args = append(args, f.ClientID)
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.HideAdminTokens {
		q += ` AND NOT (kind = ? AND target = ?)`
		args = append(args, store.AuditTokenIssued, store.AdminAudience)
	}
	if f.JTI != "" {
		// No index on the detail: Since (the longest token lifetime, from
		// the caller) bounds the scan to the at index's range.
		q += ` AND kind = ? AND detail LIKE ? ESCAPE '\'`
		args = append(args, store.AuditTokenIssued, `%"jti":"`+likeEscaper.Replace(f.JTI)+`"%`)
	}
	if !f.Since.IsZero() {
		q += ` AND at >= ?`
		args = append(args, micros(f.Since))
	}
	if !f.Until.IsZero() {
		q += ` AND at < ?`
		args = append(args, micros(f.Until))
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	q += fmt.Sprintf(` ORDER BY at DESC, id DESC LIMIT %d`, limit)
	events, err := listRows(ctx, s, scanAuditEvent, q, args...)
	if err != nil || f.JTI == "" {
		return events, err
	}
	// LIKE is case-insensitive on SQLite: keep only the exact jti.
	return slices.DeleteFunc(events, func(e store.AuditEvent) bool {
		var d struct {
			JTI string `json:"jti"`
		}
		return json.Unmarshal([]byte(e.Detail), &d) != nil || d.JTI != f.JTI
	}), nil
}

// likeEscaper escapes LIKE's wildcards and its escape character.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func scanAuditEvent(r row) (store.AuditEvent, error) {
	var e store.AuditEvent
	var at int64
	err := r.Scan(&e.ID, &at, &e.Kind, &e.Actor, &e.ClientID, &e.Target, &e.Detail)
	e.At = fromMicros(at)
	return e, err
}

// maxClaim bounds the ids of one ClaimIDs statement.
const maxClaim = 500

// ClaimIDs inserts the ids in one statement; those the database returns
// were new. An id claimed before (by any node) is not returned, even when
// it has expired but was not purged yet: callers refuse expired ids anyway.
func (s *Store) ClaimIDs(ctx context.Context, ids []store.UsedID) ([]bool, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > maxClaim {
		return nil, fmt.Errorf("claiming %d ids: at most %d at once", len(ids), maxClaim)
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO used_ids (id, expires_at) VALUES `)
	args := make([]any, 0, 2*len(ids))
	for i, id := range ids {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?)")
		args = append(args, id.Key, micros(id.ExpiresAt))
	}
	q.WriteString(` ON CONFLICT (id) DO NOTHING RETURNING id`)
	rows, err := s.db.QueryContext(ctx, s.f.rebind(q.String()), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	inserted := make(map[string]bool, len(ids))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.wrap(err)
		}
		inserted[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err)
	}
	fresh := make([]bool, len(ids))
	for i, id := range ids {
		// The same id twice in one batch: only its first place is fresh.
		fresh[i] = inserted[id.Key]
		delete(inserted, id.Key)
	}
	return fresh, nil
}
