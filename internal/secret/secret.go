package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every secret gatehouse generates, so secret scanners can
// recognise a leaked one. No other vendor uses it.
const Prefix = "gatehouse_"

const (
	fastScheme = "sha256:"
	slowScheme = "bcrypt:"
)

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// RandomAlnum returns n characters of [A-Za-z0-9] from crypto/rand, without
// modulo bias.
func RandomAlnum(n int) string {
	return string(AppendRandomAlnum(make([]byte, 0, n), n))
}

// AppendRandomAlnum appends n characters of [A-Za-z0-9] from crypto/rand,
// without modulo bias, to b: RandomAlnum for a caller building a longer
// value in a buffer of its own.
func AppendRandomAlnum(b []byte, n int) []byte {
	want := len(b) + n
	buf := make([]byte, n+n/4+8)
	for len(b) < want {
		if _, err := rand.Read(buf); err != nil {
			panic("secret: crypto/rand failed: " + err.Error())
		}
		for _, c := range buf {
			if c >= 248 { // 248 = 4*62: reject the biased tail
				continue
			}
			b = append(b, alnum[int(c)%62])
			if len(b) == want {
				break
			}
		}
	}
	return b
}

// NewClientID returns a fresh client id: 24 characters of [A-Za-z0-9].
func NewClientID() string { return RandomAlnum(24) }

// New returns a fresh secret: Prefix and 256 random bits, base64url without
// padding, so only [A-Za-z0-9_-] appear and it survives an unencoded curl --data.
func New() string {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic("secret: crypto/rand failed: " + err.Error())
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(raw)
}

// HashFast hashes a generated (high-entropy) secret for storage.
func HashFast(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return fastScheme + base64.RawStdEncoding.EncodeToString(sum[:])
}

// ErrWeakSecret rejects an imported secret too short to be an API secret.
var ErrWeakSecret = errors.New("an imported secret must be at least 16 characters")

// MaxLen bounds any presented or imported secret.
const MaxLen = 512

// ValidateImported checks a secret brought from another system.
func ValidateImported(plain string) error {
	if len(plain) < 16 {
		return ErrWeakSecret
	}
	if len(plain) > 72 { // HashSlow (bcrypt) refuses longer input, prefixed or not
		return fmt.Errorf("an imported secret must be at most 72 characters (bcrypt's limit)")
	}
	for i := 0; i < len(plain); i++ {
		if plain[i] < 0x20 || plain[i] > 0x7e {
			return fmt.Errorf("an imported secret must be printable ASCII")
		}
	}
	return nil
}

// digest is what every check computes first from the presented secret.
type digest [sha256.Size]byte

func digestOf(presented string) digest {
	// A secret of usual length is hashed from the stack: []byte(presented)
	// would be a heap copy, sha256.Sum256 not being known to keep its
	// input unchanged.
	var space [128]byte
	if len(presented) <= len(space) {
		return sha256.Sum256(space[:copy(space[:], presented)])
	}
	return sha256.Sum256([]byte(presented))
}

// matchFast compares a presented digest with a stored fast hash in constant time.
func matchFast(d digest, stored string) bool {
	// Decoded on the stack when it fits, as DecodeString would decode it.
	enc := strings.TrimPrefix(stored, fastScheme)
	var space [2 * len(d)]byte
	want := space[:]
	if n := base64.RawStdEncoding.DecodedLen(len(enc)); n > len(want) {
		want = make([]byte, n)
	}
	n, err := base64.RawStdEncoding.Decode(want, []byte(enc))
	want = want[:n]
	if err != nil || len(want) != len(d) {
		// Still do a comparison of the same length, so malformed rows cost
		// what good ones do.
		var zero digest
		subtle.ConstantTimeCompare(d[:], zero[:])
		return false
	}
	return subtle.ConstantTimeCompare(d[:], want) == 1
}
