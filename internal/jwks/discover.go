package jwks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// discoveryPaths are tried in order below the issuer (RFC 8414 §3, then
// OpenID Connect Discovery 1.0 §4).
var discoveryPaths = []string{
	"/.well-known/oauth-authorization-server",
	"/.well-known/openid-configuration",
}

// Discover reads the issuer's metadata and returns its jwks_uri, an
// absolute http(s) URL. The metadata's "issuer" must equal issuer exactly
// (RFC 8414 §3.3, OpenID Connect Discovery §4.3), so that one issuer's
// metadata cannot name keys for another. client nil means a client with
// DefaultTimeout; each request is bounded by DefaultTimeout and
// MaxDocumentBytes.
func Discover(ctx context.Context, client *http.Client, issuer string) (string, error) {
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	base := strings.TrimSuffix(issuer, "/")
	var errs []error
	for _, path := range discoveryPaths {
		body, _, err := get(ctx, client, base+path, DefaultTimeout, MaxDocumentBytes)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var meta struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(body, &meta); err != nil {
			return "", fmt.Errorf("jwks: metadata at %s: %w", redacted(base+path), err)
		}
		if meta.Issuer != issuer {
			return "", fmt.Errorf("jwks: metadata issuer %q, want %q", meta.Issuer, issuer)
		}
		if err := checkURL(meta.JWKSURI, false); err != nil {
			return "", fmt.Errorf("jwks: metadata jwks_uri: %w", err)
		}
		return meta.JWKSURI, nil
	}
	return "", errors.Join(errs...)
}

// get GETs a JSON document within timeout and returns its body, at most
// maxBytes long, and headers.
func get(ctx context.Context, client *http.Client, url string, timeout time.Duration, maxBytes int64) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fetchError(ctx, url, timeout, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("jwks: GET %s: status %d", redacted(url), resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // an answer that came after the deadline is none
	}
	if err != nil {
		return nil, nil, fetchError(ctx, url, timeout, err)
	}
	if int64(len(body)) > maxBytes {
		return nil, nil, fmt.Errorf("jwks: GET %s: document larger than %d bytes", redacted(url), maxBytes)
	}
	return body, resp.Header, nil
}

// fetchError says plainly when a request failed for want of time.
func fetchError(ctx context.Context, url string, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("jwks: GET %s: no complete answer within %v: %w", redacted(url), timeout, err)
	}
	return fmt.Errorf("jwks: GET %s: %w", redacted(url), err)
}
