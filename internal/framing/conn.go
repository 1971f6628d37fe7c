package framing

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
)

// maxHead bounds the head the scanner keeps; a longer one is refused by
// net/http itself (431), so scanning stops there.
const maxHead = 1 << 20

// Conn is an HTTP/1.1 connection whose requests' heads are read as they
// pass, to spot one with both Content-Length and Transfer-Encoding.
type Conn struct {
	net.Conn
	bad  atomic.Bool
	scan scanner
}

// NewConn wraps c.
func NewConn(c net.Conn) *Conn { return &Conn{Conn: c} }

// Read reads from the connection and scans what it read.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.bad.Load() && c.scan.feed(p[:n]) {
		c.bad.Store(true)
	}
	return n, err
}

// CloseWrite half-closes the connection when the one beneath can (TCP,
// TLS), as net/http does before closing one with unread input, so that
// the client reads the answer before the close rather than a reset.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Ambiguous reports whether a request head with both Content-Length and
// Transfer-Encoding arrived on the connection.
func (c *Conn) Ambiguous() bool { return c.bad.Load() }

// scanner follows HTTP/1.1 request framing: heads, then bodies by
// Content-Length or chunked coding, so that it knows where the next head
// starts. Read calls it from one goroutine at a time (net/http's).
type scanner struct {
	state   int
	head    []byte // the head so far, or the current chunk-size/trailer line
	left    int64  // body bytes left (Content-Length, or the chunk's data)
	stopped bool   // framing it cannot follow: net/http refuses it anyway
}

const (
	stHead      = iota // reading a request head
	stBody             // skipping left bytes of a Content-Length body
	stChunkSize        // reading a chunk-size line
	stChunkData        // skipping left bytes of chunk data
	stChunkCRLF        // reading the line end after chunk data
	stTrailer          // reading trailer lines up to an empty one
)

// feed scans b and reports whether it completed an ambiguous head.
func (s *scanner) feed(b []byte) bool {
	for len(b) > 0 && !s.stopped {
		switch s.state {
		case stBody, stChunkData:
			n := min(int64(len(b)), s.left)
			b, s.left = b[n:], s.left-n
			if s.left == 0 && s.state == stBody {
				s.state = stHead
			} else if s.left == 0 {
				s.state = stChunkCRLF
			}
		default:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				s.keep(b)
				return false
			}
			s.keep(b[:i+1])
			b = b[i+1:]
			if s.line() {
				return true
			}
		}
	}
	return false
}

func (s *scanner) keep(b []byte) {
	if len(s.head)+len(b) > maxHead {
		s.stopped = true
		return
	}
	s.head = append(s.head, b...)
}

// line handles the line (or head) that just ended in s.head, reporting an
// ambiguous head.
func (s *scanner) line() bool {
	last := lastLine(s.head)
	switch s.state {
	case stHead:
		if last != "" {
			return false // the head goes on
		}
		if strings.TrimSpace(string(s.head)) == "" {
			s.head = s.head[:0] // blank lines between requests
			return false
		}
		cl, te := headerFields(s.head)
		s.head = s.head[:0]
		switch {
		case cl != nil && te != nil:
			return true
		case te != nil:
			s.state = stChunkSize
		case cl != nil:
			n, err := strconv.ParseInt(strings.TrimSpace(*cl), 10, 64)
			if err != nil || n < 0 {
				s.stopped = true
			}
			s.left = n
			if n > 0 {
				s.state = stBody
			}
		}
	case stChunkSize:
		size, _, _ := strings.Cut(last, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
		s.head = s.head[:0]
		switch {
		case err != nil || n < 0:
			s.stopped = true
		case n == 0:
			s.state = stTrailer
		default:
			s.state, s.left = stChunkData, n
		}
	case stChunkCRLF:
		s.head = s.head[:0]
		s.state = stChunkSize
	case stTrailer:
		s.head = s.head[:0]
		if last == "" {
			s.state = stHead
		}
	}
	return false
}

// lastLine returns the last line of b (which ends in '\n'), without its end.
func lastLine(b []byte) string {
	b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return string(b)
}

// headerFields finds Content-Length and Transfer-Encoding in a head (any
// case, any count; nil when absent).
func headerFields(head []byte) (cl, te *string) {
	lines := strings.Split(string(head), "\n")
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v := strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length":
			cl = &v
		case "transfer-encoding":
			te = &v
		}
	}
	return cl, te
}
