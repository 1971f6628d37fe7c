package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// DefaultNonceSlot is the slot of a NonceIssuer made with zero: a nonce
// lives between one and two slots.
const DefaultNonceSlot = 5 * time.Minute

// MinNonceKeyBytes is the shortest nonce key accepted.
const MinNonceKeyBytes = 32

// nonceBytes is the length of a nonce before encoding: 128 bits.
const nonceBytes = 16

// NonceIssuer makes and checks server nonces (RFC 9449 §8) without state:
// a nonce is an HMAC of the current time slot under a key, and it is
// accepted during its slot and the next. Every process holding the key
// accepts the nonces of every other, so a client may meet any node of a
// cluster; their clocks must agree to well within a slot. It is safe for
// concurrent use.
type NonceIssuer struct {
	key  []byte
	slot time.Duration
	now  func() time.Time
}

// NewNonceIssuer returns an issuer for key (at least MinNonceKeyBytes
// random bytes, shared by every node), slot (zero means
// DefaultNonceSlot) and clock (nil means time.Now).
func NewNonceIssuer(key []byte, slot time.Duration, now func() time.Time) (*NonceIssuer, error) {
	if len(key) < MinNonceKeyBytes {
		return nil, errors.New("dpop: the nonce key needs at least 32 bytes")
	}
	if slot == 0 {
		slot = DefaultNonceSlot
	}
	if slot < time.Second {
		return nil, errors.New("dpop: the nonce slot must be at least a second")
	}
	if now == nil {
		now = time.Now
	}
	return &NonceIssuer{key: append([]byte(nil), key...), slot: slot, now: now}, nil
}

// Nonce returns the nonce of the current slot, for the DPoP-Nonce header.
func (n *NonceIssuer) Nonce() string {
	return n.forSlot(n.current())
}

// Valid reports whether nonce was issued in the current or the previous
// slot. It fits Check.Nonce.
func (n *NonceIssuer) Valid(nonce string) bool {
	s := n.current()
	return hmac.Equal([]byte(nonce), []byte(n.forSlot(s))) || hmac.Equal([]byte(nonce), []byte(n.forSlot(s-1)))
}

func (n *NonceIssuer) current() int64 {
	return n.now().UnixNano() / int64(n.slot)
}

func (n *NonceIssuer) forSlot(slot int64) string {
	m := hmac.New(sha256.New, n.key)
	m.Write([]byte("gatehouse dpop nonce\x00"))
	_ = binary.Write(m, binary.BigEndian, slot)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:nonceBytes])
}
