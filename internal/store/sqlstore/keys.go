package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

const keyColumns = `kid, alg, state, private_key, public_key, created_at, activates_at, retired_at, remove_after`

func scanKey(row interface{ Scan(...any) error }) (store.SigningKey, error) {
	var k store.SigningKey
	var created, activates int64
	var retired, remove sql.NullInt64
	if err := row.Scan(&k.KID, &k.Alg, &k.State, &k.PrivateKey, &k.PublicKey, &created, &activates, &retired, &remove); err != nil {
		return k, err
	}
	k.CreatedAt, k.ActivatesAt = fromMicros(created), fromMicros(activates)
	k.RetiredAt, k.RemoveAfter = fromNullMicros(retired), fromNullMicros(remove)
	return k, nil
}

func keyArgs(k store.SigningKey) []any {
	return []any{k.KID, k.Alg, k.State, k.PrivateKey, k.PublicKey, micros(k.CreatedAt), micros(k.ActivatesAt),
		nullMicros(k.RetiredAt), nullMicros(k.RemoveAfter)}
}

func (s *Store) CreateKey(ctx context.Context, k store.SigningKey) error {
	return s.execChange(ctx, "signing key "+k.KID, store.ChangeKey, k.KID, `INSERT INTO signing_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, keyArgs(k)...)
}

func (s *Store) ListKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY created_at, kid`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := []store.SigningKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, k)
	}
	return out, s.wrap(rows.Err())
}

func (s *Store) UpdateKey(ctx context.Context, kid string, fn func(store.SigningKey) (store.SigningKey, error)) (store.SigningKey, error) {
	var updated store.SigningKey
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanKey(tx.QueryRowContext(ctx, s.f.rebind(`SELECT `+keyColumns+` FROM signing_keys WHERE kid = ?`+s.f.forUpdate), kid))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("signing key %s: %w", kid, store.ErrNotFound)
		}
		if err != nil {
			return s.wrap(err)
		}
		updated, err = fn(old)
		if err != nil {
			return err
		}
		updated.KID = old.KID
		args := keyArgs(updated)
		_, err = tx.ExecContext(ctx, s.f.rebind(`UPDATE signing_keys SET alg = ?, state = ?, private_key = ?, public_key = ?, created_at = ?, activates_at = ?, retired_at = ?, remove_after = ? WHERE kid = ?`),
			append(args[1:], kid)...)
		if isUniqueViolation(err) {
			return fmt.Errorf("signing key %s: another %s key is already next: %w", kid, updated.Alg, store.ErrAlreadyExists)
		}
		if err != nil {
			return s.wrap(err)
		}
		return s.recordChange(ctx, tx, store.ChangeKey, kid)
	})
	return updated, err
}

func (s *Store) DeleteKey(ctx context.Context, kid string) error {
	return s.execChange(ctx, "signing key "+kid, store.ChangeKey, kid, `DELETE FROM signing_keys WHERE kid = ?`, kid)
}

func (s *Store) PromoteKey(ctx context.Context, kid string, retiredAt, removeAfter time.Time) (bool, error) {
	promoted := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var alg, state string
		err := tx.QueryRowContext(ctx, s.f.rebind(`SELECT alg, state FROM signing_keys WHERE kid = ?`+s.f.forUpdate), kid).Scan(&alg, &state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("signing key %s: %w", kid, store.ErrNotFound)
		}
		if err != nil {
			return s.wrap(err)
		}
		if state != store.KeyNext {
			return nil
		}
		rows, err := tx.QueryContext(ctx, s.f.rebind(`SELECT kid FROM signing_keys WHERE alg = ? AND state = ? AND kid <> ?`+s.f.forUpdate), alg, store.KeyCurrent, kid)
		if err != nil {
			return s.wrap(err)
		}
		var retiring []string
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return s.wrap(err)
			}
			retiring = append(retiring, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s.wrap(err)
		}
		if _, err := tx.ExecContext(ctx, s.f.rebind(`UPDATE signing_keys SET state = ? WHERE kid = ?`), store.KeyCurrent, kid); err != nil {
			return s.wrap(err)
		}
		for _, k := range retiring {
			if _, err := tx.ExecContext(ctx, s.f.rebind(`UPDATE signing_keys SET state = ?, retired_at = ?, remove_after = ? WHERE kid = ?`),
				store.KeyRetired, micros(retiredAt), micros(removeAfter), k); err != nil {
				return s.wrap(err)
			}
			if err := s.recordChange(ctx, tx, store.ChangeKey, k); err != nil {
				return err
			}
		}
		promoted = true
		return s.recordChange(ctx, tx, store.ChangeKey, kid)
	})
	return promoted && err == nil, err
}
