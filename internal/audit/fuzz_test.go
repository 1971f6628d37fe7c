package audit

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzSpoolRead: whatever a damaged segment holds (a machine crash, a bad
// disk), reading it neither panics nor returns a record whose checksum
// does not match, and a good record written after it is still read.
func FuzzSpoolRead(f *testing.F) {
	f.Add([]byte("e3069283 {\"a\":1}\n"))
	f.Add([]byte("0badc0de {\"torn"))
	f.Add([]byte("\n\n\x00\x00\x00"))
	f.Add([]byte("zzzzzzzz x\n"))
	f.Fuzz(func(t *testing.T, segment []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segName(1)), segment, 0o600); err != nil {
			t.Fatal(err)
		}
		sp, err := OpenSpool(dir, Sync{}, quiet())
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Close()
		if err := sp.Append([]byte(`{"good":true}`)); err != nil {
			t.Fatal(err)
		}
		var last string
		p := Position{}
		for {
			got, next, err := sp.Read(p, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range got {
				last = string(g)
			}
			if len(got) < 100 {
				break
			}
			p = next
		}
		if last != `{"good":true}` {
			t.Errorf("the record after a damaged segment: got last %q, want the good one", last)
		}
	})
}
