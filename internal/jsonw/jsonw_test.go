package jsonw

import (
	"encoding/json"
	"testing"
)

var jsonStrings = []string{
	"", "plain", `quote " and \ backslash`, "tab\tnewline\nreturn\r", "\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "line\u2028para\u2029", "ünïcödé ✓ 𝄞", "bad \xff utf-8 \xc3", "https://api.example.io/{tenant}",
	"cut at the end \xe2\x80", "\b\f",
}

// checkString compares AppendString, for s as a string and as bytes,
// with encoding/json.
func checkString(t *testing.T, s string) {
	t.Helper()
	want, _ := json.Marshal(s)
	if got := AppendString(nil, s); string(got) != string(want) {
		t.Errorf("AppendString(%q): got %s, want %s", s, got, want)
	}
	if got := AppendString([]byte("x"), []byte(s)); string(got) != "x"+string(want) {
		t.Errorf("AppendString([]byte(%q)): got %s, want x%s", s, got, want)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonStrings {
		checkString(t, s)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(checkString)
}

func TestAppendKey(t *testing.T) {
	b := AppendKey([]byte("{"), "a")
	b = append(b, '1')
	b = AppendKey(b, "b")
	b = append(b, "2}"...)
	if got, want := string(b), `{"a":1,"b":2}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := `{"audience":"https://es256.example.io","scope":"read write","jti":"Zx3kQ9mP2vL8nR4tY6wB1c","exp":1800000900,"source":"203.0.113.7","grant":"client-credentials"} ünïcödé`
	buf := make([]byte, 0, 1024)
	b.Run("string", func(b *testing.B) {
		for b.Loop() {
			buf = AppendString(buf[:0], s)
		}
	})
	bs := []byte(s)
	b.Run("bytes", func(b *testing.B) {
		for b.Loop() {
			buf = AppendString(buf[:0], bs)
		}
	})
}
