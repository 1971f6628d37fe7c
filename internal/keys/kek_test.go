package keys_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/keys"
)

// rawKEK has bytes whose standard base64 holds '+' and '/', so the two
// alphabets differ.
var rawKEK = bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 11)[:keys.KEKSize]

func mustKEK(t *testing.T, s string) *keys.KEK {
	t.Helper()
	k, err := keys.ParseKEK(s, "test")
	if err != nil {
		t.Fatalf("ParseKEK(%q): got %v, want nil", s, err)
	}
	return k
}

func TestParseKEK(t *testing.T) {
	std := base64.StdEncoding.EncodeToString(rawKEK)
	if !strings.ContainsAny(std, "+/") {
		t.Fatalf("test key %q should use '+' or '/'", std)
	}
	ref := mustKEK(t, std)
	sealed, err := ref.Seal([]byte("private"), "kid")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, in string }{
		{"std padded", std},
		{"std raw", base64.RawStdEncoding.EncodeToString(rawKEK)},
		{"url padded", base64.URLEncoding.EncodeToString(rawKEK)},
		{"url raw", base64.RawURLEncoding.EncodeToString(rawKEK)},
		{"surrounding whitespace", "  " + std + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := mustKEK(t, tt.in)
			if got, err := k.Open(sealed, "kid"); err != nil || string(got) != "private" {
				t.Errorf("Open with the same key in another encoding: got %q, %v; want private, nil", got, err)
			}
		})
	}
}

func TestParseKEKErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"16 bytes", base64.StdEncoding.EncodeToString(make([]byte, 16)), []string{"from GATEHOUSE_KEK", "is 16 bytes", "must be 32 random bytes"}},
		{"33 bytes", base64.StdEncoding.EncodeToString(make([]byte, 33)), []string{"is 33 bytes", "32"}},
		{"empty", "", []string{"is 0 bytes"}},
		{"not base64", "not base64 at all!", []string{"from GATEHOUSE_KEK", "not base64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keys.ParseKEK(tt.in, "GATEHOUSE_KEK")
			if err == nil {
				t.Fatalf("got nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadKEKCreatesFileOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "kek")
	first, err := keys.LoadKEK("", dir)
	if err != nil {
		t.Fatalf("first LoadKEK: got %v, want nil", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("kek file: got %v, want it created", err)
	}
	if runtime.GOOS != "windows" {
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("kek file mode: got %o, want 600", got)
		}
	}
	content, _ := os.ReadFile(path)
	if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(content))); err != nil || len(raw) != keys.KEKSize {
		t.Errorf("kek file: got %d bytes, %v; want %d bytes of base64", len(raw), err, keys.KEKSize)
	}
	if first.Source != path {
		t.Errorf("Source: got %q, want %q", first.Source, path)
	}

	sealed, err := first.Seal([]byte("private"), "kid")
	if err != nil {
		t.Fatal(err)
	}
	second, err := keys.LoadKEK("", dir)
	if err != nil {
		t.Fatalf("second LoadKEK: got %v, want nil", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, content) {
		t.Errorf("second LoadKEK rewrote the file: got %q, want %q", again, content)
	}
	if got, err := second.Open(sealed, "kid"); err != nil || string(got) != "private" {
		t.Errorf("reloaded KEK opens what the first sealed: got %q, %v; want private, nil", got, err)
	}
}

func TestLoadKEKEnvTakesPrecedence(t *testing.T) {
	dir := t.TempDir()
	fromFile, err := keys.LoadKEK("", dir)
	if err != nil {
		t.Fatal(err)
	}
	env := base64.StdEncoding.EncodeToString(rawKEK)
	fromEnv, err := keys.LoadKEK(env, dir)
	if err != nil {
		t.Fatalf("LoadKEK(env): got %v, want nil", err)
	}
	if fromEnv.Source != "GATEHOUSE_KEK" {
		t.Errorf("Source: got %q, want GATEHOUSE_KEK", fromEnv.Source)
	}
	sealed, _ := fromEnv.Seal([]byte("x"), "kid")
	if _, err := fromFile.Open(sealed, "kid"); !errors.Is(err, keys.ErrWrongKEK) {
		t.Errorf("file KEK opening env-sealed data: got %v, want ErrWrongKEK (env must win over the file)", err)
	}
	if _, err := mustKEK(t, env).Open(sealed, "kid"); err != nil {
		t.Errorf("env KEK: got %v, want nil", err)
	}

	empty := t.TempDir()
	if _, err := keys.LoadKEK(env, empty); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(empty, "kek")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("kek file with env set: got %v, want none created", err)
	}
	if _, err := keys.LoadKEK("short", empty); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_KEK") {
		t.Errorf("bad env: got %v, want an error naming GATEHOUSE_KEK", err)
	}
}

func TestLoadKEKBadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kek")
	if err := os.WriteFile(path, []byte("dG9vIHNob3J0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := keys.LoadKEK("", dir)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("got %v, want an error naming %s", err, path)
	}
}

func TestSealOpen(t *testing.T) {
	k := mustKEK(t, base64.StdEncoding.EncodeToString(rawKEK))
	other := mustKEK(t, base64.StdEncoding.EncodeToString(make([]byte, keys.KEKSize)))
	plain := []byte("-----BEGIN PRIVATE KEY----- ...")
	sealed, err := k.Seal(plain, "kid-1")
	if err != nil {
		t.Fatalf("Seal: got %v, want nil", err)
	}
	if bytes.Contains(sealed, plain) {
		t.Errorf("sealed bytes contain the plain text")
	}
	if again, _ := k.Seal(plain, "kid-1"); bytes.Equal(again, sealed) {
		t.Errorf("two seals of the same input: got equal outputs, want fresh nonces")
	}
	if got, err := k.Open(sealed, "kid-1"); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open: got %q, %v; want %q, nil", got, err, plain)
	}
	if _, err := other.Open(sealed, "kid-1"); !errors.Is(err, keys.ErrWrongKEK) {
		t.Errorf("Open with another KEK: got %v, want ErrWrongKEK", err)
	}
	if _, err := k.Open(sealed, "kid-2"); !errors.Is(err, keys.ErrWrongKEK) {
		t.Errorf("Open with another aad: got %v, want ErrWrongKEK", err)
	}
	for _, n := range []int{0, len(sealed) / 2, len(sealed) - 1} {
		tampered := bytes.Clone(sealed)
		tampered[n] ^= 0x01
		if _, err := k.Open(tampered, "kid-1"); !errors.Is(err, keys.ErrWrongKEK) {
			t.Errorf("Open with byte %d flipped: got %v, want ErrWrongKEK", n, err)
		}
	}
	for _, short := range [][]byte{nil, sealed[:5], sealed[:12+15]} {
		if _, err := k.Open(short, "kid-1"); !errors.Is(err, keys.ErrWrongKEK) {
			t.Errorf("Open of %d bytes: got %v, want ErrWrongKEK", len(short), err)
		}
	}
}
