package audit

import (
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openSpool(t testing.TB, dir string, policy Sync) *Spool {
	t.Helper()
	sp, err := OpenSpool(dir, policy, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp
}

// readAll reads every record from p on.
func readAll(t *testing.T, sp *Spool, p Position) []string {
	t.Helper()
	var out []string
	for {
		got, next, err := sp.Read(p, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			out = append(out, string(g))
		}
		if len(got) < 7 {
			return out
		}
		p = next
	}
}

// TestSpoolKeepsEveryAppendAcrossRestarts: concurrent Appends (grouped by
// the writer) under each fsync policy are all read back, after the spool
// is reopened too, in the order of their segments.
func TestSpoolKeepsEveryAppendAcrossRestarts(t *testing.T) {
	for _, policy := range []string{"always", "never", "5ms"} {
		t.Run(policy, func(t *testing.T) {
			pol, err := ParseSync(policy)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			sp := openSpool(t, dir, pol)
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := range 50 {
						if err := sp.Append(fmt.Appendf(nil, `{"w":%d,"i":%d}`, w, i)); err != nil {
							t.Errorf("Append: got %v, want nil", err)
						}
					}
				})
			}
			wg.Wait()
			if got := len(readAll(t, sp, sp.Oldest())); got != 400 {
				t.Errorf("while open: got %d records, want 400", got)
			}
			sp.Close()
			if err := sp.Append([]byte(`{}`)); err != ErrSpoolClosed {
				t.Errorf("Append after Close: got %v, want ErrSpoolClosed", err)
			}
			again := openSpool(t, dir, pol)
			if err := again.Append([]byte(`{"after":"restart"}`)); err != nil {
				t.Fatal(err)
			}
			all := readAll(t, again, again.Oldest())
			if len(all) != 401 || all[400] != `{"after":"restart"}` {
				t.Errorf("after a restart: got %d records ending %q, want 401 ending with the new one", len(all), all[len(all)-1])
			}
			if again.First().Seg <= sp.First().Seg {
				t.Errorf("the second process writes segment %d, want after %d", again.First().Seg, sp.First().Seg)
			}
		})
	}
}

// TestSpoolSkipsDamagedRecords: a flipped byte and a torn tail (what a
// machine crash leaves) cost those records only.
func TestSpoolSkipsDamagedRecords(t *testing.T) {
	dir := t.TempDir()
	sp := openSpool(t, dir, Sync{Always: true})
	for i := range 5 {
		sp.Append(fmt.Appendf(nil, `{"i":%d}`, i))
	}
	sp.Close()
	path := sp.segPath(sp.First().Seg)
	data, _ := os.ReadFile(path)
	data[20] ^= 0x01                                   // inside the second record
	data = append(data, []byte("0badc0de {\"torn")...) // no newline: never completed
	os.WriteFile(path, data, 0o600)

	again := openSpool(t, dir, Sync{})
	got := readAll(t, again, again.Oldest())
	want := []string{`{"i":0}`, `{"i":2}`, `{"i":3}`, `{"i":4}`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if n := again.Corrupt(); n != 2 {
		t.Errorf("damaged records counted: got %d, want 2", n)
	}
}

func sqliteStore(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), sqlstore.SQLitePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func countEvents(t *testing.T, st store.Store) (total int, ids map[string]int) {
	t.Helper()
	events, err := st.ListAudit(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	ids = map[string]int{}
	for _, e := range events {
		ids[e.ID]++
	}
	return len(events), ids
}

// TestDurableRecorderShipsWhatACrashLeft: events recorded by a process that
// never shipped them (it died) reach the store from the next start; a
// crash between a shipped batch and its cursor write ships the batch again
// without duplicating rows; shipped segments are removed.
func TestDurableRecorderShipsWhatACrashLeft(t *testing.T) {
	data := t.TempDir()
	st := sqliteStore(t, data)
	spoolDir := filepath.Join(data, "audit-spool")

	sp := openSpool(t, spoolDir, Sync{Every: 1e9})
	crashed := NewDurable(st, sp, nil, quiet())
	for i := range 120 {
		crashed.Record("token.issued", "c1", "c1", "https://a", map[string]int{"i": i})
	}
	sp.Close() // the process dies: nothing was shipped, and Close is never called

	sp2 := openSpool(t, spoolDir, Sync{Every: 1e9})
	r := NewDurable(st, sp2, nil, quiet())
	r.ship.max = 50
	before := snapshotDir(t, spoolDir)
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := countEvents(t, st); n != 120 {
		t.Fatalf("after the restart's first flush: got %d events stored, want 120", n)
	}
	sp2.Close()
	// A crash after the batches reached the store, before the cursor moved
	// and the segments went: the spool is as it was before the flush.
	restoreDir(t, spoolDir, before)
	sp3 := openSpool(t, spoolDir, Sync{Every: 1e9})
	r3 := NewDurable(st, sp3, nil, quiet())
	r3.Record("admin.change", "admin", "", "t", nil)
	if err := r3.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, ids := countEvents(t, st)
	if n != 121 || len(ids) != 121 {
		t.Errorf("after shipping again: got %d rows with %d ids, want 121 and 121", n, len(ids))
	}
	segs, _ := listSegments(spoolDir)
	if len(segs) != 1 {
		t.Errorf("segments left after everything shipped: got %v, want only the last one", segs)
	}
}

func snapshotDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		files[e.Name()], _ = os.ReadFile(filepath.Join(dir, e.Name()))
	}
	return files
}

func restoreDir(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.Remove(filepath.Join(dir, e.Name()))
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSpoolRefusesASecondProcess: two processes on one data directory
// would remove each other's segments; the second open is refused until
// the first closes.
func TestSpoolRefusesASecondProcess(t *testing.T) {
	dir := t.TempDir()
	sp := openSpool(t, dir, Sync{})
	if other, err := OpenSpool(dir, Sync{}, quiet()); err == nil {
		other.Close()
		t.Fatal("a second OpenSpool on the same directory: got nil, want an error")
	}
	sp.Close()
	again, err := OpenSpool(dir, Sync{}, quiet())
	if err != nil {
		t.Fatalf("after Close: got %v, want nil", err)
	}
	again.Close()
}

func TestFrameHeadIsTheCRCInHex(t *testing.T) {
	for _, p := range []string{"", `{"a":1}`, "x", strings.Repeat("é", 1000)} {
		head := frameHead([]byte(p))
		if want := fmt.Sprintf("%08x ", crc32.Checksum([]byte(p), castagnoli)); string(head[:]) != want {
			t.Errorf("frameHead(%.10q): got %q, want %q", p, head, want)
		}
	}
}
