package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KEKSize is the length of a key-encryption key: AES-256.
const KEKSize = 32

// KEK seals and opens private keys at rest with AES-256-GCM.
type KEK struct {
	aead cipher.AEAD
	raw  []byte
	// Source says where the KEK came from, for error messages.
	Source string
}

// ParseKEK decodes a base64 (standard or URL alphabet, padded or not) KEK.
func ParseKEK(s, source string) (*KEK, error) {
	s = strings.TrimSpace(s)
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("key-encryption key from %s is not base64", source)
	}
	if len(raw) != KEKSize {
		return nil, fmt.Errorf("key-encryption key from %s is %d bytes; it must be %d random bytes, base64-encoded (try: head -c 32 /dev/urandom | base64)", source, len(raw), KEKSize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &KEK{aead: aead, raw: raw, Source: source}, nil
}

// LoadKEK returns the KEK from env (GATEHOUSE_KEK's value) when it is set,
// or else from <dataDir>/kek, generating that file (mode 0600) when missing.
func LoadKEK(env, dataDir string) (*KEK, error) {
	if env != "" {
		return ParseKEK(env, "GATEHOUSE_KEK")
	}
	path := filepath.Join(dataDir, "kek")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		raw := make([]byte, KEKSize)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, err
		}
		encoded := base64.StdEncoding.EncodeToString(raw) + "\n"
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("creating %s: %w", path, err)
		}
		if _, err := f.WriteString(encoded); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		return ParseKEK(encoded, path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the key-encryption key: %w", err)
	}
	return ParseKEK(string(data), path)
}

// DeriveKey derives a 32-byte key for purpose (HKDF-SHA256), so nodes that
// share the KEK share, say, the console's session key, without the KEK
// itself being used for anything but sealing.
func (k *KEK) DeriveKey(purpose string) []byte {
	key, err := hkdf.Key(sha256.New, k.raw, nil, purpose, 32)
	if err != nil {
		panic("keys: hkdf: " + err.Error())
	}
	return key
}

// ErrWrongKEK means a sealed key could not be opened: the KEK is not the
// one it was sealed with, or the stored bytes were changed.
var ErrWrongKEK = errors.New("the key-encryption key does not open the stored signing keys")

// Seal encrypts plaintext, binding it to aad (the key id) so that sealed
// keys cannot be swapped between rows.
func (k *KEK) Seal(plaintext []byte, aad string) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, plaintext, []byte(aad)), nil
}

// Open decrypts what Seal produced with the same aad.
func (k *KEK) Open(sealed []byte, aad string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n+k.aead.Overhead() {
		return nil, ErrWrongKEK
	}
	out, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return nil, ErrWrongKEK
	}
	return out, nil
}
