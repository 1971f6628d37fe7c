package verify

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestCacheAnswersRepeatedTokens(t *testing.T) {
	fi := newIssuer(t, newClock())
	keys := testKeys()
	source := mapSource{"ec-1": keys["ec"], "rsa-1": keys["rsa"]}
	v := newTestVerifier(t, fi, func(c *Config) { c.Keys = source })
	tok := fi.token(t, keys["ec"], fi.claims(), nil)

	first, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(v.cache.entries); n != 1 {
		t.Fatalf("entries after one verification: got %d, want 1", n)
	}
	again, err := v.Verify(t.Context(), tok)
	if err != nil || again.JTI != first.JTI || again == first {
		t.Errorf("the repeated token: got %+v, %v; want the same claims in a copy of their own", again, err)
	}

	// A tampered copy is not the cached token: it is verified, and refused.
	if _, err := v.Verify(t.Context(), tok[:len(tok)-2]+"AA"); !errors.Is(err, ErrSignature) {
		t.Errorf("a changed signature: got %v, want ErrSignature", err)
	}

	// Past exp and the leeway, the cached answer is not used.
	fi.clock.Advance(900*time.Second + DefaultLeeway + time.Second)
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrExpired) {
		t.Errorf("after exp: got %v, want ErrExpired", err)
	}
	if n := len(v.cache.entries); n != 0 {
		t.Errorf("entries after the token expired: got %d, want 0", n)
	}
}

func TestCacheDropsTokensOfRemovedKeys(t *testing.T) {
	fi := newIssuer(t, newClock())
	keys := testKeys()
	source := mapSource{"ec-1": keys["ec"]}
	v := newTestVerifier(t, fi, func(c *Config) { c.Keys = source })
	tok := fi.token(t, keys["ec"], fi.claims(), nil)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	delete(source, "ec-1")
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("after the key was removed: got %v, want ErrUnknownKey", err)
	}
}

func TestCacheBoundedAndForgotten(t *testing.T) {
	fi := newIssuer(t, newClock())
	keys := testKeys()
	v := newTestVerifier(t, fi, func(c *Config) { c.Keys, c.CacheSize = mapSource{"ec-1": keys["ec"]}, 5 })
	for i := range 20 {
		claims := fi.claims()
		claims["jti"] = fmt.Sprint("jti-", i)
		if _, err := v.Verify(t.Context(), fi.token(t, keys["ec"], claims, nil)); err != nil {
			t.Fatal(err)
		}
		if n := len(v.cache.entries); n > 5 {
			t.Fatalf("entries: got %d, want at most 5", n)
		}
	}
	off := newTestVerifier(t, fi, func(c *Config) { c.Keys, c.CacheSize = mapSource{"ec-1": keys["ec"]}, -1 })
	if _, err := off.Verify(t.Context(), fi.token(t, keys["ec"], fi.claims(), nil)); err != nil || off.cache != nil {
		t.Errorf("CacheSize -1: got %v, cache %v; want no cache", err, off.cache)
	}
}

// BenchmarkVerifyRS256 is a raw verification; BenchmarkVerifyRS256Cached
// the same token seen again (issue 15: the cached answer must be faster
// than the RSA check it saves).
func BenchmarkVerifyRS256(b *testing.B)       { benchmarkVerify(b, -1) }
func BenchmarkVerifyRS256Cached(b *testing.B) { benchmarkVerify(b, 0) }

func benchmarkVerify(b *testing.B, cacheSize int) {
	fi := newIssuer(b, newClock())
	keys := testKeys()
	v := newTestVerifier(b, fi, func(c *Config) { c.Keys, c.CacheSize = mapSource{"rsa-1": keys["rsa"]}, cacheSize })
	tok := fi.token(b, keys["rsa"], fi.claims(), nil)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
