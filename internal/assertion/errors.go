package assertion

import (
	"errors"
	"fmt"
)

// Reasons an assertion is refused. Verify wraps each with a detail for the
// log (which may quote claims, never a key); match them with errors.Is.
// None of the details is meant for the client, who gets a generic error.
var (
	// ErrMalformed: not a compact JWS of one signature, too large, a "crit"
	// header, claims that are not a JSON object, a registered claim of the
	// wrong type, or no "exp".
	ErrMalformed = errors.New("assertion: malformed")
	// ErrType: the "typ" header is not the expected one.
	ErrType = errors.New("assertion: wrong typ")
	// ErrAlgorithm: the "alg" header is not an allowed asymmetric
	// algorithm ("none" and HMAC never are).
	ErrAlgorithm = errors.New("assertion: algorithm not allowed")
	// ErrUnknownKey: no key found for the "kid" and "alg" headers, or the
	// keys could not be had (the KeyFinder's error is wrapped too).
	ErrUnknownKey = errors.New("assertion: unknown signing key")
	// ErrSignature: no candidate key verifies the signature.
	ErrSignature = errors.New("assertion: invalid signature")
	// ErrIssuer: "iss" is not the expected issuer.
	ErrIssuer = errors.New("assertion: wrong issuer")
	// ErrSubject: "sub" is not the expected subject.
	ErrSubject = errors.New("assertion: wrong subject")
	// ErrAudience: "aud" holds none of the expected audiences.
	ErrAudience = errors.New("assertion: wrong audience")
	// ErrExpired: "exp" has passed, leeway included.
	ErrExpired = errors.New("assertion: expired")
	// ErrNotYetValid: "nbf" or "iat" lies in the future, beyond the leeway.
	ErrNotYetValid = errors.New("assertion: not yet valid")
	// ErrLifetime: "exp" lies more than Expect.MaxLifetime after "iat", or
	// there is no "iat" to bound it.
	ErrLifetime = errors.New("assertion: lifetime too long")
	// ErrTooOld: "iat" lies more than Expect.MaxAge in the past, or there is
	// no "iat" to tell.
	ErrTooOld = errors.New("assertion: issued too long ago")
	// ErrMissingJTI: Expect.RequireJTI is set and there is no "jti".
	ErrMissingJTI = errors.New("assertion: no jti")
)

// refuse wraps a reason with a detail; format may wrap further errors
// with %w.
func refuse(reason error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{reason}, args...)...)
}
