package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// exchanger sends the run's one token request and reads the answer. Each
// worker owns one, so it needs no locking.
type exchanger interface {
	// prepare signs what the next send needs new (a client assertion, a
	// DPoP proof); for a request that never changes it does nothing.
	// Workers call it before the send's latency clock starts.
	prepare(now time.Time) error
	exchange(ctx context.Context) (status int, body []byte, err error)
	close()
}

// wireConn is a lean HTTP/1.1 keep-alive client for plain-http targets:
// the request bytes are built once and the answer is read straight off
// the connection. The load generator shares the cores with the server it
// measures, so every microsecond it spends is taken from the server;
// net/http's client costs several times more per request. It handles
// what a token endpoint answers: a status line, headers and a body of
// Content-Length bytes.
type wireConn struct {
	addr    string
	request []byte // the next send's bytes
	timeout time.Duration

	// With fresh parts, request is rebuilt for every send from the head
	// (request line and fixed headers) and the fixed body, with a
	// Content-Length and DPoP header of its own.
	fresh            *freshParts
	reqHead, reqBody []byte

	conn net.Conn
	br   *bufio.Reader
	used bool // the connection has carried a request before
	body []byte
}

// newWireConn prepares a connection for req against an http:// URL.
func newWireConn(rawURL string, req tokenRequest, timeout time.Duration) (*wireConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("wire client: %q is not an http:// URL", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	path := u.RequestURI()
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nAccept: application/json\r\n",
		path, u.Host, req.contentType)
	if req.authorization != "" {
		fmt.Fprintf(&b, "Authorization: %s\r\n", req.authorization)
	}
	if req.signers != nil {
		return &wireConn{addr: addr, timeout: timeout, fresh: newFreshParts(req.signers),
			reqHead: b.Bytes(), reqBody: req.body}, nil
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(req.body))
	b.Write(req.body)
	return &wireConn{addr: addr, request: b.Bytes(), timeout: timeout}, nil
}

// prepare builds the next send's bytes when they change at every send.
func (w *wireConn) prepare(now time.Time) error {
	f := w.fresh
	if f == nil {
		return nil
	}
	if err := f.next(now); err != nil {
		return err
	}
	b := append(w.request[:0], w.reqHead...)
	if len(f.proof) > 0 {
		b = append(append(append(b, "DPoP: "...), f.proof...), "\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(w.reqBody)+len(f.tail)), 10)
	b = append(b, "\r\n\r\n"...)
	w.request = append(append(b, w.reqBody...), f.tail...)
	return nil
}

func (w *wireConn) exchange(ctx context.Context) (int, []byte, error) {
	status, body, err := w.once()
	if err != nil && w.used && isStale(err) {
		// The server closed an idle keep-alive connection: one new try.
		w.close()
		status, body, err = w.once()
	}
	if err != nil {
		w.close()
	}
	return status, body, err
}

func (w *wireConn) once() (int, []byte, error) {
	if w.conn == nil {
		c, err := net.DialTimeout("tcp", w.addr, 5*time.Second)
		if err != nil {
			return 0, nil, err
		}
		w.conn, w.br, w.used = c, bufio.NewReaderSize(c, 16<<10), false
	}
	reused := w.used
	w.used = true
	if err := w.conn.SetDeadline(time.Now().Add(w.timeout)); err != nil {
		return 0, nil, err
	}
	if _, err := w.conn.Write(w.request); err != nil {
		return 0, nil, staleIf(reused, err)
	}
	h, err := readHead(w.br)
	if err != nil {
		return 0, nil, staleIf(reused, err)
	}
	if h.nonce != "" && w.fresh != nil {
		w.fresh.setNonce(h.nonce)
	}
	status, n, keep := h.status, h.length, h.keep
	var body []byte
	if n == chunked {
		if body, err = readChunked(w.br, w.body[:0]); err != nil {
			return 0, nil, err
		}
		w.body = body
	} else {
		if cap(w.body) < n {
			w.body = make([]byte, n)
		}
		body = w.body[:n]
		if _, err := io.ReadFull(w.br, body); err != nil {
			return 0, nil, err
		}
	}
	if !keep {
		w.close()
	}
	return status, body, nil
}

func (w *wireConn) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn, w.br = nil, nil
	}
}

// errStale marks a failure on a reused connection before any answer.
var errStale = errors.New("stale keep-alive connection")

func staleIf(reused bool, err error) error {
	if reused && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "reset by peer") || strings.Contains(err.Error(), "broken pipe")) {
		return fmt.Errorf("%w: %v", errStale, err)
	}
	return err
}

func isStale(err error) bool { return errors.Is(err, errStale) }

// head is what the wire client reads of a response's head.
type head struct {
	status int
	length int  // of the body, or chunked
	keep   bool // the connection stays open
	nonce  string
}

// readHead reads a response's status line and headers: the status, the
// body's length, whether the connection stays open, and the DPoP-Nonce.
func readHead(br *bufio.Reader) (head, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return head{}, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return head{}, fmt.Errorf("malformed status line %q", bytes.TrimSpace(line))
	}
	h := head{keep: true, length: -1}
	if h.status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return head{}, fmt.Errorf("malformed status line %q", bytes.TrimSpace(line))
	}
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return head{}, err
		}
		field := bytes.TrimRight(line, "\r\n")
		if len(field) == 0 {
			break
		}
		name, value, ok := bytes.Cut(field, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if h.length, err = strconv.Atoi(string(value)); err != nil || h.length < 0 || h.length > 1<<20 {
				return head{}, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			h.keep = false
		case bytes.EqualFold(name, []byte("Transfer-Encoding")) && bytes.EqualFold(value, []byte("chunked")):
			h.length = chunked
		case bytes.EqualFold(name, []byte("DPoP-Nonce")):
			h.nonce = string(value) // copied: the reader reuses its buffer
		}
	}
	if h.length == -1 {
		return head{}, errors.New("wire client: answer without Content-Length")
	}
	return h, nil
}

// chunked is readHead's length for a chunked body.
const chunked = -2

// readChunked reads a chunked body (RFC 9112 §7.1) into buf, up to 1 MiB.
func readChunked(br *bufio.Reader, buf []byte) ([]byte, error) {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		sizeText, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(";"))
		size, err := strconv.ParseInt(string(sizeText), 16, 32)
		if err != nil || size < 0 || len(buf)+int(size) > 1<<20 {
			return nil, fmt.Errorf("bad chunk size %q", sizeText)
		}
		if size == 0 {
			for { // trailers, then the blank line
				line, err := br.ReadSlice('\n')
				if err != nil {
					return nil, err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return buf, nil
				}
			}
		}
		start := len(buf)
		buf = append(buf, make([]byte, size)...)
		if _, err := io.ReadFull(br, buf[start:]); err != nil {
			return nil, err
		}
		if _, err := br.Discard(2); err != nil { // the chunk's CRLF
			return nil, err
		}
	}
}

// httpExchanger sends through net/http: for https targets.
type httpExchanger struct {
	r     *runner
	fresh *freshParts // nil when the request never changes
}

func (h *httpExchanger) prepare(now time.Time) error {
	if h.fresh == nil {
		return nil
	}
	return h.fresh.next(now)
}

func (h *httpExchanger) exchange(ctx context.Context) (int, []byte, error) {
	req, err := h.r.req.new(ctx, h.fresh)
	if err != nil {
		return 0, nil, err
	}
	resp, err := h.r.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if n := resp.Header.Get("DPoP-Nonce"); n != "" && h.fresh != nil {
		h.fresh.setNonce(n)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_, _ = io.Copy(io.Discard, resp.Body) // drain, so the connection is reused
	return resp.StatusCode, body, err
}

func (h *httpExchanger) close() {}
