package secret

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func onlyChars(s, allowed string) bool {
	for _, r := range s {
		if !strings.ContainsRune(allowed, r) {
			return false
		}
	}
	return true
}

const urlSafe = alnum + "_-"

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		s := New()
		if !strings.HasPrefix(s, Prefix) {
			t.Fatalf("got %q, want prefix %q", s, Prefix)
		}
		body := strings.TrimPrefix(s, Prefix)
		if !onlyChars(s, urlSafe) {
			t.Fatalf("got %q, want only [A-Za-z0-9_-]", s)
		}
		raw, err := base64.RawURLEncoding.DecodeString(body)
		if err != nil || len(raw) != 32 {
			t.Fatalf("decoding %q: got %d bytes, %v; want 32 bytes (256 bits), nil", body, len(raw), err)
		}
		if seen[s] {
			t.Fatalf("got %q twice", s)
		}
		seen[s] = true
	}
	if err := ValidateImported(New()); err != nil {
		t.Errorf("ValidateImported(New()): got %v, want nil", err)
	}
}

func TestNewClientID(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		id := NewClientID()
		if len(id) != 24 || !onlyChars(id, alnum) {
			t.Fatalf("got %q, want 24 characters of [A-Za-z0-9]", id)
		}
		if seen[id] {
			t.Fatalf("got %q twice", id)
		}
		seen[id] = true
	}
}

func TestRandomAlnumLength(t *testing.T) {
	for _, n := range []int{0, 1, 7, 32, 100, 1000} {
		if got := RandomAlnum(n); len(got) != n || !onlyChars(got, alnum) {
			t.Errorf("RandomAlnum(%d): got %q, want %d characters of [A-Za-z0-9]", n, got, n)
		}
	}
}

func TestAppendRandomAlnumKeepsWhatItAppendsTo(t *testing.T) {
	var stack [32]byte
	b := append(stack[:0], "prefix-"...)
	b = AppendRandomAlnum(b, 10)
	if len(b) != 17 || string(b[:7]) != "prefix-" || !onlyChars(string(b[7:]), alnum) {
		t.Errorf("got %q, want prefix- and 10 characters of [A-Za-z0-9]", b)
	}
}

func TestRandomAlnumDistribution(t *testing.T) {
	const perChar = 1000
	counts := map[rune]int{}
	for _, r := range RandomAlnum(62 * perChar) {
		counts[r]++
	}
	if len(counts) != 62 {
		t.Fatalf("got %d distinct characters, want all 62", len(counts))
	}
	// The standard deviation per character is about 31; a biased generator
	// (for example plain b%62) puts the first 8 characters ~25% high.
	for r, n := range counts {
		if n < perChar*7/10 || n > perChar*13/10 {
			t.Errorf("character %q: got %d occurrences, want about %d", r, n, perChar)
		}
	}
}

func TestHashFast(t *testing.T) {
	a, b := HashFast("secret-a"), HashFast("secret-b")
	if a != HashFast("secret-a") {
		t.Errorf("HashFast is not deterministic")
	}
	if a == b {
		t.Errorf("two secrets: got the same hash %q", a)
	}
	if !strings.HasPrefix(a, fastScheme) || strings.Contains(a, "secret-a") {
		t.Errorf("got %q, want %q and no plain text", a, fastScheme+"...")
	}
	if IsSlow(a) {
		t.Errorf("IsSlow(HashFast(...)): got true, want false")
	}
}

func TestValidateImported(t *testing.T) {
	tests := []struct {
		name    string
		plain   string
		wantErr bool
	}{
		{"16 characters", "abcdefghijklmnop", false},
		{"15 characters", "abcdefghijklmno", true},
		{"empty", "", true},
		{"72 characters", strings.Repeat("a", 72), false},
		{"73 characters", strings.Repeat("a", 73), true},
		{"printable punctuation", "ab cd!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", false},
		{"gatehouse secret", New(), false},
		{"prefixed but over bcrypt's limit", Prefix + strings.Repeat("a", 80), true},
		{"over MaxLen", Prefix + strings.Repeat("a", MaxLen), true},
		{"tab", "abcdefghijklmnop\t", true},
		{"newline", "abcdefghijklmnop\n", true},
		{"DEL", "abcdefghijklmnop\x7f", true},
		{"non-ASCII", "abcdefghijklmnopé", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateImported(tt.plain)
			if (err != nil) != tt.wantErr {
				t.Errorf("got %v, want error %v", err, tt.wantErr)
			}
		})
	}
	if err := ValidateImported("short"); !errors.Is(err, ErrWeakSecret) {
		t.Errorf("short secret: got %v, want ErrWeakSecret", err)
	}
}

// TestValidateImportedCanBeHashed checks that whatever ValidateImported
// accepts, HashSlow can store: an accepted secret must never fail later.
func TestValidateImportedCanBeHashed(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("bcrypt")
	}
	for _, n := range []int{72, 73, 100, MaxLen} {
		plain := Prefix + strings.Repeat("x", n-len(Prefix))
		if ValidateImported(plain) != nil {
			continue
		}
		if _, err := HashSlow(plain); err != nil {
			t.Errorf("%d-character secret: ValidateImported accepts it, HashSlow says %v", len(plain), err)
		}
	}
}

func TestMatchFastMalformed(t *testing.T) {
	d := digestOf("x")
	for _, stored := range []string{"", fastScheme, fastScheme + "!!!", fastScheme + "YWJj", HashFast("y")} {
		if matchFast(d, stored) {
			t.Errorf("matchFast(digest of x, %q): got true, want false", stored)
		}
	}
	if !matchFast(d, HashFast("x")) {
		t.Errorf("matchFast(digest of x, HashFast(x)): got false, want true")
	}
}

// matchFast reads a stored hash as base64.RawStdEncoding.DecodeString
// does, whatever its length; digestOf hashes secrets of any length.
func TestMatchFastDecodesAsDecodeString(t *testing.T) {
	for _, plain := range []string{"x", strings.Repeat("s", 128), strings.Repeat("l", 129), strings.Repeat("é", 500)} {
		stored := HashFast(plain)
		enc := strings.TrimPrefix(stored, fastScheme)
		tests := []struct {
			name, stored string
			want         bool
		}{
			{"as stored", stored, true},
			{"with a line break", fastScheme + enc[:20] + "\r\n" + enc[20:], true},
			{"one character more", stored + "A", false},
			{"twice as long", stored + enc, false},
			{"far too long", stored + strings.Repeat("A", 1000), false},
		}
		for _, tt := range tests {
			if got := matchFast(digestOf(plain), tt.stored); got != tt.want {
				t.Errorf("%d-byte secret, %s: got %v, want %v", len(plain), tt.name, got, tt.want)
			}
		}
	}
}
