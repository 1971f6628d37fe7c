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

func scanKey(r row) (store.SigningKey, error) {
	var k store.SigningKey
	var created, activates int64
	var retired, remove sql.NullInt64
	if err := r.Scan(&k.KID, &k.Alg, &k.State, &k.PrivateKey, &k.PublicKey, &created, &activates, &retired, &remove); err != nil {
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
	return listRows(ctx, s, scanKey, `SELECT `+keyColumns+` FROM signing_keys ORDER BY created_at, kid`)
}

func (s *Store) UpdateKey(ctx context.Context, kid string, fn func(store.SigningKey) (store.SigningKey, error)) (store.SigningKey, error) {
	return updateRow(ctx, s, rowUpdate[store.SigningKey]{
		what: "signing key " + kid, kind: store.ChangeKey, key: kid,
		get: `SELECT ` + keyColumns + ` FROM signing_keys WHERE kid = ?`, scan: scanKey,
		set: `UPDATE signing_keys SET alg = ?, state = ?, private_key = ?, public_key = ?, created_at = ?, activates_at = ?, retired_at = ?, remove_after = ? WHERE kid = ?`,
		put: func(old, k store.SigningKey) (store.SigningKey, []any) {
			k.KID = old.KID
			return k, keyArgs(k)[1:]
		},
		clash: func(k store.SigningKey) error {
			return fmt.Errorf("signing key %s: another %s key is already next: %w", kid, k.Alg, store.ErrAlreadyExists)
		},
	}, fn)
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
