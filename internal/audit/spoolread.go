package audit

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
)

// Reading the spool: records in order from a position, skipping damage,
// and removing segments every reader has passed.

// Read returns up to max payloads from p on, and the position after them.
// It reads only what is written, skips damaged records (counting them),
// and moves past segments that end or are gone. The payloads share one
// buffer.
func (s *Spool) Read(p Position, max int) ([][]byte, Position, error) {
	var rd payloadReader
	for len(rd.ends) < max {
		s.mu.Lock()
		w := s.written
		s.mu.Unlock()
		if !p.before(w) {
			break
		}
		f, err := os.Open(s.segPath(p.Seg))
		if errors.Is(err, os.ErrNotExist) {
			p, err = s.nextSegment(p.Seg, w)
			if err != nil {
				return rd.payloads(), p, err
			}
			continue
		}
		if err != nil {
			return rd.payloads(), p, fmt.Errorf("audit spool: %w", err)
		}
		limit := w.Off
		if p.Seg < w.Seg {
			st, err := f.Stat()
			if err != nil {
				f.Close()
				return rd.payloads(), p, fmt.Errorf("audit spool: %w", err)
			}
			limit = st.Size()
		}
		var sealedEnd bool
		p, sealedEnd = s.readSegment(f, p, limit, max, &rd)
		f.Close()
		if sealedEnd && p.Seg < w.Seg {
			p = Position{Seg: p.Seg + 1}
		}
	}
	return rd.payloads(), p, nil
}

// payloadReader gathers the payloads of one Read in one buffer.
type payloadReader struct {
	buf  []byte
	ends []int
	line []byte // a record longer than the bufio.Reader's buffer
	r    *bufio.Reader
}

func (rd *payloadReader) payloads() [][]byte {
	if len(rd.ends) == 0 {
		return nil
	}
	out := make([][]byte, len(rd.ends))
	start := 0
	for i, end := range rd.ends {
		out[i] = rd.buf[start:end:end]
		start = end
	}
	return out
}

// readLine is bufio.Reader.ReadBytes('\n') without a copy for a line
// that fits the reader's buffer: valid until the next call.
func (rd *payloadReader) readLine() ([]byte, error) {
	line, err := rd.r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	rd.line = append(rd.line[:0], line...)
	for err == bufio.ErrBufferFull {
		line, err = rd.r.ReadSlice('\n')
		rd.line = append(rd.line, line...)
	}
	return rd.line, err
}

// readSegment reads records of one segment from p up to limit; it reports
// whether it reached the limit (so a sealed segment is done).
func (s *Spool) readSegment(f *os.File, p Position, limit int64, max int, rd *payloadReader) (Position, bool) {
	if p.Off >= limit {
		return p, true
	}
	section := io.NewSectionReader(f, p.Off, limit-p.Off)
	if rd.r == nil {
		rd.r = bufio.NewReaderSize(section, 64<<10)
	} else {
		rd.r.Reset(section)
	}
	for len(rd.ends) < max {
		line, err := rd.readLine()
		if err != nil {
			if len(line) > 0 {
				// A torn tail: the record was never completely written.
				s.damaged(p, "torn record")
				p.Off += int64(len(line))
			}
			return p, true
		}
		p.Off += int64(len(line))
		if payload, ok := unframe(line); ok {
			if rd.buf == nil {
				rd.buf = make([]byte, 0, min(limit-p.Off+int64(len(line)), int64(max)*512))
			}
			rd.buf = append(rd.buf, payload...)
			rd.ends = append(rd.ends, len(rd.buf))
		} else {
			s.damaged(p, "checksum mismatch")
		}
	}
	return p, p.Off >= limit
}

func (s *Spool) damaged(p Position, why string) {
	s.corrupt.Add(1)
	s.log.Warn("audit spool: skipped a damaged record", "segment", segName(p.Seg), "offset", p.Off, "reason", why)
}

// unframe checks one "crc payload\n" line and returns the payload in it.
func unframe(line []byte) ([]byte, bool) {
	if len(line) < 10 || line[8] != ' ' || line[len(line)-1] != '\n' {
		return nil, false
	}
	want, err := strconv.ParseUint(string(line[:8]), 16, 32)
	payload := line[9 : len(line)-1]
	if err != nil || crc32.Checksum(payload, castagnoli) != uint32(want) {
		return nil, false
	}
	return payload, true
}

// nextSegment is the first segment after seg that exists (or the one
// being written).
func (s *Spool) nextSegment(seg uint64, w Position) (Position, error) {
	segs, err := listSegments(s.dir)
	if err != nil {
		return Position{Seg: seg}, err
	}
	for _, n := range segs {
		if n > seg {
			return Position{Seg: n}, nil
		}
	}
	return Position{Seg: w.Seg}, nil
}

// Oldest is the start of the oldest segment present.
func (s *Spool) Oldest() Position {
	segs, err := listSegments(s.dir)
	if err != nil || len(segs) == 0 {
		return s.first
	}
	return Position{Seg: segs[0]}
}

// First is where this process's records begin.
func (s *Spool) First() Position { return s.first }

// Track registers a reader at p; segments are removed only when every
// tracked reader has passed them.
func (s *Spool) Track(name string, p Position) {
	s.mu.Lock()
	s.marks[name] = p
	s.mu.Unlock()
}

// Release moves a tracked reader to p and removes the segments that every
// reader has passed.
func (s *Spool) Release(name string, p Position) {
	s.mu.Lock()
	s.marks[name] = p
	low := s.written
	for _, m := range s.marks {
		if m.before(low) {
			low = m
		}
	}
	s.mu.Unlock()
	segs, err := listSegments(s.dir)
	if err != nil {
		return
	}
	for _, n := range segs {
		if n >= low.Seg {
			break
		}
		if err := os.Remove(s.segPath(n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("audit spool: removing a shipped segment failed", "segment", segName(n), "err", err)
		}
	}
}

// Size is the bytes the spool's segments hold.
func (s *Spool) Size() int64 {
	segs, _ := listSegments(s.dir)
	var total int64
	for _, n := range segs {
		if st, err := os.Stat(s.segPath(n)); err == nil {
			total += st.Size()
		}
	}
	return total
}
