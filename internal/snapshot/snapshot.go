package snapshot

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// FileName is the snapshot's name in the data directory.
const FileName = "snapshot.sealed"

// Data is what a snapshot holds: the store's contents that issuing,
// introspection and the admin API's reads need.
type Data struct {
	WrittenAt time.Time
	// ChangeID is the change feed's position when the copy began: the
	// copy holds at least every change up to it.
	ChangeID     int64
	Tenants      []store.Tenant
	Environments []store.Environment
	APIs         []store.API
	Clients      []store.Client
	Trusts       []store.Trust
	Keys         []store.SigningKey
	Revocations  []store.Revocation
}

// header is the first value of the stream; the entities follow it one
// by one, so neither side holds an encoded copy of the whole catalog.
type header struct {
	Version   int
	WrittenAt time.Time
	ChangeID  int64
	Counts    [7]int
}

const version = 1

// Copy reads a snapshot's contents from st.
func Copy(ctx context.Context, st store.Store, now time.Time) (*Data, error) {
	d := &Data{WrittenAt: now}
	var err error
	if d.ChangeID, err = st.LatestChange(ctx); err != nil {
		return nil, err
	}
	if d.Tenants, err = st.ListTenants(ctx); err != nil {
		return nil, err
	}
	if d.Environments, err = st.ListEnvironments(ctx, ""); err != nil {
		return nil, err
	}
	if d.APIs, err = st.ListAPIs(ctx); err != nil {
		return nil, err
	}
	if d.Clients, err = st.ListClients(ctx); err != nil {
		return nil, err
	}
	if d.Trusts, err = st.ListTrusts(ctx, ""); err != nil {
		return nil, err
	}
	if d.Keys, err = st.ListKeys(ctx); err != nil {
		return nil, err
	}
	if d.Revocations, err = st.ListRevocations(ctx, time.Time{}); err != nil {
		return nil, err
	}
	return d, nil
}

// Write seals d into dir/FileName with key, replacing the file only once
// the new one is whole and on disk.
func Write(dir string, key []byte, d *Data) error {
	tmp, err := os.CreateTemp(dir, FileName+".*.tmp")
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := encode(tmp, key, d); err != nil {
		tmp.Close()
		return fmt.Errorf("snapshot: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, FileName)); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func encode(w io.Writer, key []byte, d *Data) error {
	sw, err := newSealWriter(w, key)
	if err != nil {
		return err
	}
	enc := gob.NewEncoder(sw)
	h := header{Version: version, WrittenAt: d.WrittenAt, ChangeID: d.ChangeID, Counts: [7]int{
		len(d.Tenants), len(d.Environments), len(d.APIs), len(d.Clients), len(d.Trusts), len(d.Keys), len(d.Revocations)}}
	if err := enc.Encode(h); err != nil {
		return err
	}
	if err := errors.Join(each(enc, d.Tenants), each(enc, d.Environments), each(enc, d.APIs), each(enc, d.Clients),
		each(enc, d.Trusts), each(enc, d.Keys), each(enc, d.Revocations)); err != nil {
		return err
	}
	return sw.Close()
}

func each[T any](enc *gob.Encoder, xs []T) error {
	for i := range xs {
		if err := enc.Encode(&xs[i]); err != nil {
			return err
		}
	}
	return nil
}

// Read opens dir/FileName with key. A missing file is os.ErrNotExist; a
// damaged one, or one sealed under another KEK, is ErrCorrupt.
func Read(dir string, key []byte) (*Data, error) {
	f, err := os.Open(filepath.Join(dir, FileName))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	or, err := newOpenReader(f, key)
	if err != nil {
		return nil, err
	}
	dec := gob.NewDecoder(or)
	var h header
	if err := dec.Decode(&h); err != nil {
		return nil, wrapCorrupt(err)
	}
	if h.Version != version {
		return nil, fmt.Errorf("snapshot: version %d, this gatehouse reads %d", h.Version, version)
	}
	d := &Data{WrittenAt: h.WrittenAt, ChangeID: h.ChangeID}
	if err := errors.Join(
		decodeN(dec, h.Counts[0], &d.Tenants), decodeN(dec, h.Counts[1], &d.Environments),
		decodeN(dec, h.Counts[2], &d.APIs), decodeN(dec, h.Counts[3], &d.Clients),
		decodeN(dec, h.Counts[4], &d.Trusts), decodeN(dec, h.Counts[5], &d.Keys),
		decodeN(dec, h.Counts[6], &d.Revocations)); err != nil {
		return nil, wrapCorrupt(err)
	}
	// The stream must end here, with its sealed last chunk.
	if _, err := or.Read(make([]byte, 1)); err != io.EOF {
		return nil, wrapCorrupt(err)
	}
	return d, nil
}

func decodeN[T any](dec *gob.Decoder, n int, out *[]T) error {
	if n < 0 || n > 1<<26 {
		return fmt.Errorf("%d entries", n)
	}
	*out = make([]T, n)
	for i := range *out {
		if err := dec.Decode(&(*out)[i]); err != nil {
			return err
		}
	}
	return nil
}

func wrapCorrupt(err error) error {
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}
