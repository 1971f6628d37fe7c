package framing

import (
	"bytes"
	"net"
	"strconv"
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
// starts. Read calls it from one goroutine at a time (net/http's). It
// looks at each head line once, in place where it can, without keeping
// the head.
type scanner struct {
	state   int
	line    []byte // a line split across reads, so far
	left    int64  // body bytes left (Content-Length, or the chunk's data)
	stopped bool   // framing it cannot follow: net/http refuses it anyway

	// The head being read.
	headLen  int  // its bytes so far
	inHead   bool // a non-empty line was read
	sawTE    bool
	sawCL    bool
	clLength int64
	clBad    bool
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
		if s.state == stBody || s.state == stChunkData {
			n := min(int64(len(b)), s.left)
			b, s.left = b[n:], s.left-n
			if s.left == 0 && s.state == stBody {
				s.state = stHead
			} else if s.left == 0 {
				s.state = stChunkCRLF
			}
			continue
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			s.keep(b)
			return false
		}
		var line []byte
		if len(s.line) > 0 {
			s.keep(b[:i])
			line, s.line = s.line, s.line[:0]
		} else {
			line = b[:i]
		}
		b = b[i+1:]
		if s.headLen += len(line) + 1; s.state == stHead && s.headLen > maxHead {
			s.stopped = true
		}
		if s.handle(bytes.TrimSuffix(line, []byte("\r"))) {
			return true
		}
	}
	return false
}

// keep holds part of a line until its end arrives.
func (s *scanner) keep(b []byte) {
	if len(s.line)+len(b) > maxHead {
		s.stopped = true
		return
	}
	s.line = append(s.line, b...)
}

// handle takes one line (without its end), reporting an ambiguous head.
func (s *scanner) handle(line []byte) bool {
	switch s.state {
	case stHead:
		return s.headLine(line)
	case stChunkSize:
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		switch {
		case err != nil || n < 0:
			s.stopped = true
		case n == 0:
			s.state = stTrailer
		default:
			s.state, s.left = stChunkData, n
		}
	case stChunkCRLF:
		s.state = stChunkSize
	case stTrailer:
		if len(line) == 0 {
			s.state = stHead
		}
	}
	return false
}

// headLine takes one line of a request head; the empty line ends it.
func (s *scanner) headLine(line []byte) bool {
	if len(line) > 0 {
		s.inHead = true
		if v, ok := field(line, "content-length:"); ok {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			s.sawCL, s.clLength, s.clBad = true, n, s.clBad || err != nil || n < 0
		} else if _, ok := field(line, "transfer-encoding:"); ok {
			s.sawTE = true
		}
		return false
	}
	if !s.inHead {
		s.headLen = 0 // a blank line between requests
		return false
	}
	ambiguous := s.sawCL && s.sawTE
	switch {
	case ambiguous:
	case s.sawTE:
		s.state = stChunkSize
	case s.sawCL && s.clBad:
		s.stopped = true
	case s.sawCL && s.clLength > 0:
		s.state, s.left = stBody, s.clLength
	}
	s.headLen, s.inHead, s.sawTE, s.sawCL, s.clLength, s.clBad = 0, false, false, false, 0, false
	return ambiguous
}

// field reports whether line is the header named by prefix (lower case,
// with its colon), in any case, and returns its value.
func field(line []byte, prefix string) ([]byte, bool) {
	if len(line) < len(prefix) {
		return nil, false
	}
	for i := 0; i < len(prefix); i++ {
		c := line[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return nil, false
		}
	}
	return line[len(prefix):], true
}
