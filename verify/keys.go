package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// maxDocumentBytes bounds the metadata and JWKS documents read.
	maxDocumentBytes = 1 << 20
	// fetchTimeout bounds one metadata or JWKS request.
	fetchTimeout = 10 * time.Second
	// defaultKeysTTL applies when the JWKS response has no max-age.
	defaultKeysTTL = 5 * time.Minute
	// maxKeysTTL caps a long max-age, so removed keys stop working in time.
	maxKeysTTL = 24 * time.Hour
	// minRSABits is the smallest RSA modulus accepted in the JWKS.
	minRSABits = 2048
)

// signatureAlgorithms are the algorithms a published key may carry. HMAC
// and "none" are absent on purpose: a public key must never verify them.
var signatureAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// publicKey is one usable key of the JWKS.
type publicKey struct {
	alg jose.SignatureAlgorithm
	key crypto.PublicKey
}

// discoveryPaths are tried in order below the issuer (RFC 8414 §3, then
// OpenID Connect Discovery).
var discoveryPaths = []string{
	"/.well-known/oauth-authorization-server",
	"/.well-known/openid-configuration",
}

// discover reads the issuer's metadata and returns its jwks_uri. The
// metadata's issuer must equal the configured one exactly (RFC 8414 §3.3).
func discover(ctx context.Context, client *http.Client, issuer string) (string, error) {
	base := strings.TrimSuffix(issuer, "/")
	var errs []error
	for _, path := range discoveryPaths {
		body, _, err := fetch(ctx, client, base+path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var meta struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(body, &meta); err != nil {
			return "", fmt.Errorf("verify: metadata at %s: %w", base+path, err)
		}
		if meta.Issuer != issuer {
			return "", fmt.Errorf("verify: metadata issuer %q, want %q", meta.Issuer, issuer)
		}
		if err := checkURL(meta.JWKSURI); err != nil {
			return "", fmt.Errorf("verify: metadata jwks_uri: %w", err)
		}
		return meta.JWKSURI, nil
	}
	return "", errors.Join(errs...)
}

// checkURL accepts an absolute http or https URL.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}

// fetch GETs a JSON document and returns its body and headers.
func fetch(ctx context.Context, client *http.Client, url string) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("verify: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("verify: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("verify: GET %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("verify: GET %s: %w", url, err)
	}
	if len(body) > maxDocumentBytes {
		return nil, nil, fmt.Errorf("verify: GET %s: document larger than %d bytes", url, maxDocumentBytes)
	}
	return body, resp.Header, nil
}

// fetchKeys GETs the JWKS and returns its usable keys by kid, and how long
// the response may be cached.
func fetchKeys(ctx context.Context, client *http.Client, url string) (map[string]publicKey, time.Duration, error) {
	body, header, err := fetch(ctx, client, url)
	if err != nil {
		return nil, 0, err
	}
	keys, err := parseKeySet(body)
	if err != nil {
		return nil, 0, fmt.Errorf("verify: JWKS at %s: %w", url, err)
	}
	return keys, maxAge(header.Get("Cache-Control")), nil
}

// parseKeySet keeps the keys that can verify signatures and skips the rest
// (other uses, unknown key types, unsupported algorithms), so that a key
// type this package does not know yet cannot break verification with the
// others.
func parseKeySet(body []byte) (map[string]publicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, err
	}
	keys := make(map[string]publicKey, len(set.Keys))
	for _, raw := range set.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			continue
		}
		k, ok := usableKey(&jwk)
		if !ok {
			continue
		}
		if _, dup := keys[jwk.KeyID]; dup {
			continue // the first key with a kid wins
		}
		keys[jwk.KeyID] = k
	}
	if len(keys) == 0 {
		return nil, errors.New("no usable signing key")
	}
	return keys, nil
}

// usableKey reports whether jwk is a public signing key with a kid and an
// algorithm that fits its type. A key without "alg" gets the one algorithm
// gatehouse would use with it (RS256, ES256/384/512 by curve, EdDSA).
func usableKey(jwk *jose.JSONWebKey) (publicKey, bool) {
	if jwk.KeyID == "" || (jwk.Use != "" && jwk.Use != "sig") || !jwk.IsPublic() || !jwk.Valid() {
		return publicKey{}, false
	}
	alg := jose.SignatureAlgorithm(jwk.Algorithm)
	if alg == "" {
		alg = defaultAlgorithm(jwk.Key)
	}
	if !fits(alg, jwk.Key) {
		return publicKey{}, false
	}
	return publicKey{alg: alg, key: jwk.Key}, true
}

func defaultAlgorithm(key crypto.PublicKey) jose.SignatureAlgorithm {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return jose.RS256
	case *ecdsa.PublicKey:
		return ecdsaAlgorithm(k.Curve)
	case ed25519.PublicKey:
		return jose.EdDSA
	}
	return ""
}

func ecdsaAlgorithm(c elliptic.Curve) jose.SignatureAlgorithm {
	switch c {
	case elliptic.P256():
		return jose.ES256
	case elliptic.P384():
		return jose.ES384
	case elliptic.P521():
		return jose.ES512
	}
	return ""
}

// fits reports whether alg is a supported algorithm for this kind of key.
func fits(alg jose.SignatureAlgorithm, key crypto.PublicKey) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return k.N.BitLen() >= minRSABits
		}
	case *ecdsa.PublicKey:
		return alg != "" && alg == ecdsaAlgorithm(k.Curve)
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

// maxAge reads max-age from a Cache-Control header and bounds it; no-store,
// no-cache and a missing max-age give the default.
func maxAge(cacheControl string) time.Duration {
	for _, directive := range strings.Split(cacheControl, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			secs, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
			if err != nil || secs < 0 {
				return defaultKeysTTL
			}
			return time.Duration(min(secs, int64(maxKeysTTL/time.Second))) * time.Second
		}
	}
	return defaultKeysTTL
}
