package audit

import (
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The spool is an append-only log of audit events in a directory of
// numbered segment files. Each record is one line: the CRC-32C of the
// payload in 8 hex digits, a space, the payload (JSON, which has no
// newline), "\n". A torn or damaged line (a machine crash mid-write) fails
// its checksum and is skipped and counted; the lines after it still count.
//
// Append returns once the record is written to the file (write(2)): a
// process crash after that loses nothing, because the kernel holds the
// data. What a machine crash loses is the fsync policy's choice (Sync).
// Concurrent Appends are written together (group commit), so one write
// and one fsync serve every request waiting then.

// segmentMax is the size past which the writer starts a new segment.
const segmentMax = 64 << 20

// ErrSpoolClosed is Append's answer after Close.
var ErrSpoolClosed = errors.New("audit spool closed")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Sync is the spool's fsync policy.
type Sync struct {
	// Always fsyncs every group of records before their Appends return.
	Always bool
	// Every fsyncs written records at most this long after they were
	// written; zero (without Always) leaves it to the operating system.
	Every time.Duration
}

// ParseSync reads "always", "never", or a positive duration ("1s").
func ParseSync(s string) (Sync, error) {
	switch s {
	case "always":
		return Sync{Always: true}, nil
	case "never":
		return Sync{}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return Sync{}, fmt.Errorf("%q is not always, never or a positive duration (examples: 1s, 100ms)", s)
	}
	return Sync{Every: d}, nil
}

func (p Sync) never() bool { return !p.Always && p.Every == 0 }

// Position is a place in the spool: a segment and a byte offset in it.
type Position struct {
	Seg uint64 `json:"segment"`
	Off int64  `json:"offset"`
}

func (p Position) before(q Position) bool {
	return p.Seg < q.Seg || (p.Seg == q.Seg && p.Off < q.Off)
}

// Spool is the durable, append-only log of one node's audit events.
type Spool struct {
	dir    string
	policy Sync
	log    *slog.Logger
	lock   *os.File // held while open (nil where flock is missing)

	mu      sync.Mutex
	cond    *sync.Cond // signalled when a write ends
	cur     *batch
	spare   *batch // a finished batch, for the next group
	writing bool   // a caller is writing (it owns the fields below s.mu's)
	closed  bool
	written Position            // the end of what is written: readers stop there
	first   Position            // where this process's records begin
	marks   map[string]Position // each reader's cursor, for removing old segments

	corrupt atomic.Int64

	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once

	// Owned by whoever is writing (see writing).
	f      *os.File
	seg    uint64
	off    int64
	dirty  bool
	broken bool
}

// batch is a group of records written together. Its Appends return once
// it is done; the last of them to return hands it back for the next group
// (s.spare), so a busy spool reuses two buffers rather than allocating.
type batch struct {
	buf     []byte
	done    bool
	err     error
	waiters int
}

// batchReuseMax is the largest batch buffer kept for reuse.
const batchReuseMax = 1 << 20

// OpenSpool opens (creating) the spool in dir and starts its writer. New
// records go to a new segment; what earlier processes wrote stays for the
// readers whose cursors have not passed it.
func OpenSpool(dir string, policy Sync, log *slog.Logger) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit spool: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	segs, err := listSegments(dir)
	if err == nil && len(segs) > 0 && segs[len(segs)-1] == ^uint64(0) {
		err = fmt.Errorf("audit spool: no segment number left after %s", segName(segs[len(segs)-1]))
	}
	if err != nil {
		lock.Close()
		return nil, err
	}
	s := &Spool{lock: lock,
		dir: dir, policy: policy, log: log, cur: &batch{}, marks: map[string]Position{},
		stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	s.cond = sync.NewCond(&s.mu)
	if len(segs) > 0 {
		s.seg = segs[len(segs)-1]
	}
	if err := s.rotate(); err != nil {
		lock.Close()
		return nil, err
	}
	s.first = Position{Seg: s.seg}
	s.written = s.first
	go s.run()
	return s, nil
}

// Dir is the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Corrupt is how many damaged records readers have skipped.
func (s *Spool) Corrupt() int64 { return s.corrupt.Load() }

func segName(seg uint64) string { return fmt.Sprintf("%020d.spool", seg) }

func (s *Spool) segPath(seg uint64) string { return filepath.Join(s.dir, segName(seg)) }

// listSegments returns the segment numbers in dir, ascending.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit spool: %w", err)
	}
	var segs []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".spool")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(name, 10, 64); err == nil {
			segs = append(segs, n)
		}
	}
	slices.Sort(segs)
	return segs, nil
}

// Append writes one record and returns when it is in the file (and, with
// Sync.Always, on the disk). payload must not contain a newline.
//
// Group commit without a hand-off: the caller that finds no write in
// progress writes everything pending itself; callers arriving meanwhile
// add to the next group, and one of them writes it when the first write
// ends. A lone request pays one write(2) and no goroutine switch.
func (s *Spool) Append(payload []byte) error {
	head := frameHead(payload)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSpoolClosed
	}
	b := s.cur
	b.buf = append(b.buf, head[:]...)
	b.buf = append(b.buf, payload...)
	b.buf = append(b.buf, '\n')
	b.waiters++
	for !b.done {
		if !s.writing {
			s.writeLocked()
			continue
		}
		s.cond.Wait()
	}
	err := b.err
	if b.waiters--; b.waiters == 0 && cap(b.buf) <= batchReuseMax {
		*b = batch{buf: b.buf[:0]}
		s.spare = b
	}
	return err
}

// frameHead is a record's "crc " prefix: the payload's CRC-32C in eight
// lower-case hex digits and a space (computed before taking the lock).
func frameHead(payload []byte) [9]byte {
	const hexDigits = "0123456789abcdef"
	var head [9]byte
	sum := crc32.Checksum(payload, castagnoli)
	for i := 7; i >= 0; i-- {
		head[i] = hexDigits[sum&0xf]
		sum >>= 4
	}
	head[8] = ' '
	return head
}

// writeLocked writes the pending group; s.mu is held on entry and exit,
// and released during the write.
func (s *Spool) writeLocked() {
	b := s.cur
	if s.cur = s.spare; s.cur == nil {
		s.cur = &batch{}
	}
	s.spare = nil
	s.writing = true
	s.mu.Unlock()
	var err error
	if len(b.buf) > 0 {
		err = s.write(b.buf)
	}
	s.mu.Lock()
	b.err, b.done = err, true
	s.writing = false
	s.cond.Broadcast()
}

// exclusive runs f while no write is in progress (the fsync ticker, Close).
func (s *Spool) exclusive(f func()) {
	s.mu.Lock()
	for s.writing {
		s.cond.Wait()
	}
	s.writing = true
	s.mu.Unlock()
	f()
	s.mu.Lock()
	s.writing = false
	s.cond.Broadcast()
	s.mu.Unlock()
}

// run fsyncs written records on the policy's interval until Close.
func (s *Spool) run() {
	defer close(s.stopped)
	if s.policy.Every == 0 {
		<-s.stop
		return
	}
	t := time.NewTicker(s.policy.Every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.exclusive(func() {
				if s.dirty {
					s.syncFile()
				}
			})
		case <-s.stop:
			return
		}
	}
}

func (s *Spool) write(buf []byte) error {
	if s.broken || s.off+int64(len(buf)) > segmentMax && s.off > 0 {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	n, err := s.f.Write(buf)
	s.off += int64(n)
	if err != nil {
		// The file may end in part of a record now: seal it (readers skip
		// a torn tail) and write the next group to a new segment.
		s.broken = true
		return fmt.Errorf("audit spool: %w", err)
	}
	if s.policy.Always {
		if err := s.f.Sync(); err != nil {
			s.broken = true
			return fmt.Errorf("audit spool: fsync: %w", err)
		}
	} else {
		s.dirty = true
	}
	s.mu.Lock()
	s.written = Position{Seg: s.seg, Off: s.off}
	s.mu.Unlock()
	return nil
}

func (s *Spool) syncFile() {
	if err := s.f.Sync(); err != nil {
		s.log.Error("audit spool: fsync failed", "err", err)
		return
	}
	s.dirty = false
}

// rotate seals the current segment (if any) and starts the next one.
func (s *Spool) rotate() error {
	if s.f != nil {
		if !s.policy.never() {
			s.f.Sync()
		}
		s.f.Close()
		s.f = nil
	}
	f, err := os.OpenFile(s.segPath(s.seg+1), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit spool: %w", err)
	}
	if !s.policy.never() {
		syncDir(s.dir)
	}
	s.f, s.seg, s.off, s.dirty, s.broken = f, s.seg+1, 0, false, false
	s.mu.Lock()
	s.written = Position{Seg: s.seg}
	s.mu.Unlock()
	return nil
}

// syncDir makes a new or renamed file's name durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Close writes what is pending, fsyncs (unless the policy is never) and
// closes the file; later Appends answer ErrSpoolClosed.
func (s *Spool) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		for s.writing {
			s.cond.Wait()
		}
		if len(s.cur.buf) > 0 {
			s.writeLocked()
		}
		s.mu.Unlock()
		close(s.stop)
		<-s.stopped
		s.exclusive(func() {
			if !s.policy.never() {
				s.syncFile()
			}
			s.f.Close()
		})
		if s.lock != nil {
			s.lock.Close()
		}
	})
	return nil
}
