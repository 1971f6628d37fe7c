package snapshot

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The sealed stream: magic, a random 7-byte file id, then chunks, each a
// 4-byte big-endian length and an AES-GCM ciphertext whose nonce is the
// file id, the chunk's 4-byte index and a last-chunk flag.
const (
	magic     = "gatehouse-snapshot-v1\n"
	fileIDLen = 7
	chunkSize = 64 << 10
)

// ErrCorrupt is returned for a file that is not a whole snapshot sealed
// with this key: truncated, altered, or sealed under another KEK.
var ErrCorrupt = errors.New("snapshot: corrupt, truncated or sealed with another key")

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func nonce(fileID []byte, index uint32, last bool) []byte {
	n := make([]byte, 12)
	copy(n, fileID)
	binary.BigEndian.PutUint32(n[fileIDLen:], index)
	if last {
		n[11] = 1
	}
	return n
}

// sealWriter encrypts what is written to it, chunk by chunk; Close seals
// the last chunk, without which a reader refuses the stream.
type sealWriter struct {
	w      io.Writer
	aead   cipher.AEAD
	fileID []byte
	index  uint32
	buf    []byte
}

func newSealWriter(w io.Writer, key []byte) (*sealWriter, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	id := make([]byte, fileIDLen)
	rand.Read(id)
	if _, err := io.WriteString(w, magic); err != nil {
		return nil, err
	}
	if _, err := w.Write(id); err != nil {
		return nil, err
	}
	return &sealWriter{w: w, aead: aead, fileID: id, buf: make([]byte, 0, chunkSize)}, nil
}

func (s *sealWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if len(s.buf) == chunkSize {
			if err := s.flush(false); err != nil {
				return n, err
			}
		}
		k := copy(s.buf[len(s.buf):chunkSize], p)
		s.buf, p, n = s.buf[:len(s.buf)+k], p[k:], n+k
	}
	return n, nil
}

func (s *sealWriter) flush(last bool) error {
	ct := s.aead.Seal(nil, nonce(s.fileID, s.index, last), s.buf, nil)
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(ct)))
	if _, err := s.w.Write(hdr[:]); err != nil {
		return err
	}
	if _, err := s.w.Write(ct); err != nil {
		return err
	}
	s.index++
	s.buf = s.buf[:0]
	return nil
}

// Close seals the last chunk.
func (s *sealWriter) Close() error { return s.flush(true) }

// openReader decrypts a sealed stream; it returns ErrCorrupt for anything
// but a whole stream sealed with key.
type openReader struct {
	r      io.Reader
	aead   cipher.AEAD
	fileID []byte
	index  uint32
	plain  []byte
	done   bool
}

func newOpenReader(r io.Reader, key []byte) (*openReader, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	head := make([]byte, len(magic)+fileIDLen)
	if _, err := io.ReadFull(r, head); err != nil || string(head[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not a snapshot file", ErrCorrupt)
	}
	return &openReader{r: r, aead: aead, fileID: head[len(magic):]}, nil
}

func (o *openReader) Read(p []byte) (int, error) {
	for len(o.plain) == 0 {
		if o.done {
			return 0, io.EOF
		}
		if err := o.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, o.plain)
	o.plain = o.plain[n:]
	return n, nil
}

func (o *openReader) next() error {
	var hdr [4]byte
	if _, err := io.ReadFull(o.r, hdr[:]); err != nil {
		return fmt.Errorf("%w: it ends before its last chunk", ErrCorrupt)
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size > chunkSize+uint32(o.aead.Overhead()) {
		return fmt.Errorf("%w: chunk of %d bytes", ErrCorrupt, size)
	}
	ct := make([]byte, size)
	if _, err := io.ReadFull(o.r, ct); err != nil {
		return fmt.Errorf("%w: it ends inside a chunk", ErrCorrupt)
	}
	for _, last := range []bool{false, true} {
		if plain, err := o.aead.Open(nil, nonce(o.fileID, o.index, last), ct, nil); err == nil {
			o.plain, o.done = plain, last
			o.index++
			if last {
				if n, _ := o.r.Read(hdr[:1]); n > 0 {
					return fmt.Errorf("%w: data after the last chunk", ErrCorrupt)
				}
			}
			return nil
		}
	}
	return ErrCorrupt
}
