package assertion

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Peek returns the "iss" and "sub" claims of raw without verifying
// anything, so that the caller can find the client or the trust whose
// keys and Expect to verify raw with. Nothing else may rest on them: the
// caller must then Verify with Expect.Issuer (and Expect.Subject, where it
// chose by the subject) set to the values Peek returned. raw must look
// like a compact JWS of at most 16 KiB whose payload is a JSON object with
// string iss and sub where present; either may come back empty.
func Peek(raw string) (iss, sub string, err error) {
	if raw == "" || len(raw) > maxTokenBytes {
		return "", "", refuse(ErrMalformed, "empty or larger than %d bytes", maxTokenBytes)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", "", refuse(ErrMalformed, "%d parts, want the 3 of a compact JWS", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", "", refuse(ErrMalformed, "payload: %v", err)
	}
	var claims *struct {
		Issuer  string `json:"iss"`
		Subject string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", "", refuse(ErrMalformed, "claims: %v", err)
	}
	if claims == nil {
		return "", "", refuse(ErrMalformed, "claims are not a JSON object")
	}
	return claims.Issuer, claims.Subject, nil
}
