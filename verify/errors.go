package verify

import "errors"

// ErrInvalidToken is matched, with errors.Is, by every error [Verifier.Verify]
// returns for a token that must be refused. The more specific errors below
// all match it too; the middleware answers each of them with
// 401 invalid_token (RFC 6750 §3.1).
var ErrInvalidToken = errors.New("invalid token")

// Specific reasons a token is refused. Each one also matches ErrInvalidToken.
var (
	// ErrMalformed: not a compact JWS, the claims are not a JSON object
	// holding every claim RFC 9068 §2.2 requires, or a cnf claim binds
	// the token by no method this package enforces (neither jkt nor
	// x5t#S256).
	ErrMalformed error = &tokenError{"malformed token"}
	// ErrTokenType: the "typ" header is not "at+jwt" (RFC 9068 §2.1).
	ErrTokenType error = &tokenError{"token is not an access token"}
	// ErrAlgorithm: the "alg" header is not an asymmetric signature
	// algorithm, or differs from the alg of the key named by "kid".
	ErrAlgorithm error = &tokenError{"signature algorithm not accepted"}
	// ErrUnknownKey: no published key has the token's "kid", even after a
	// refresh of the JWKS.
	ErrUnknownKey error = &tokenError{"unknown signing key"}
	// ErrSignature: the signature does not verify.
	ErrSignature error = &tokenError{"invalid signature"}
	// ErrIssuer: the "iss" claim is not the configured issuer.
	ErrIssuer error = &tokenError{"wrong issuer"}
	// ErrAudience: the "aud" claim does not hold the configured audience.
	ErrAudience error = &tokenError{"wrong audience"}
	// ErrExpired: "exp" has passed, leeway included.
	ErrExpired error = &tokenError{"token expired"}
	// ErrNotYetValid: "nbf" or "iat" lies in the future, beyond the leeway.
	ErrNotYetValid error = &tokenError{"token not yet valid"}
)

// tokenError is the type of the specific errors: its message is safe to show
// to the client (it is the error_description the middleware sends), and it
// matches ErrInvalidToken.
type tokenError struct{ msg string }

func (e *tokenError) Error() string { return e.msg }

// Is makes every specific error match ErrInvalidToken.
func (e *tokenError) Is(target error) bool { return target == ErrInvalidToken }

// invalid wraps one of the specific errors with a detail for logs; the
// detail is never sent to the client.
func invalid(kind error, detail string) error {
	return &detailedError{kind: kind, detail: detail}
}

type detailedError struct {
	kind   error
	detail string
}

func (e *detailedError) Error() string {
	if e.detail == "" {
		return "verify: " + e.kind.Error()
	}
	return "verify: " + e.kind.Error() + ": " + e.detail
}

func (e *detailedError) Unwrap() error { return e.kind }

// description returns the client-safe text for err: the message of the
// specific error it wraps, or that of ErrInvalidToken.
func description(err error) string {
	var te *tokenError
	if errors.As(err, &te) {
		return te.msg
	}
	return ErrInvalidToken.Error()
}
