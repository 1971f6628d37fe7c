package dpop

import "errors"

// ErrInvalidProof is matched, with errors.Is, by every error [Verify]
// and [FromHeader] return for a proof that must be
// refused; callers answer invalid_dpop_proof (RFC 9449 §7.1). The specific
// errors below all match it too.
var ErrInvalidProof = errors.New("invalid DPoP proof")

// Specific reasons a proof is refused. Each one also matches
// ErrInvalidProof, and its text is safe to send as an error_description.
var (
	// ErrNoProof: the request has no DPoP header.
	ErrNoProof error = &proofError{"no DPoP proof"}
	// ErrMalformed: several DPoP headers, an oversized proof, not a
	// compact JWS, a header or claims that are not the JSON the RFC
	// describes, or a missing iat.
	ErrMalformed error = &proofError{"malformed DPoP proof"}
	// ErrTyp: the typ header is not exactly "dpop+jwt".
	ErrTyp error = &proofError{"DPoP proof typ is not dpop+jwt"}
	// ErrAlgorithm: alg is not one of Algorithms ("none" and HMAC never
	// are), or does not fit the jwk's key type.
	ErrAlgorithm error = &proofError{"DPoP proof algorithm not accepted"}
	// ErrKey: no jwk header, or one that is not a supported public key.
	ErrKey error = &proofError{"DPoP proof jwk is not a usable public key"}
	// ErrPrivateKey: the jwk header holds private or symmetric key
	// material (RFC 9449 §4.2: a public key only).
	ErrPrivateKey error = &proofError{"DPoP proof jwk holds private key material"}
	// ErrSignature: the jwk does not verify the signature.
	ErrSignature error = &proofError{"DPoP proof signature invalid"}
	// ErrMissingJTI: no jti, or an empty one.
	ErrMissingJTI error = &proofError{"DPoP proof has no jti"}
	// ErrMethod: htm is not the request's method.
	ErrMethod error = &proofError{"DPoP proof htm does not match the request method"}
	// ErrURL: htu is not the request's URL.
	ErrURL error = &proofError{"DPoP proof htu does not match the request URL"}
	// ErrStale: iat lies outside the accepted window.
	ErrStale error = &proofError{"DPoP proof iat outside the accepted window"}
	// ErrATH: ath is missing or is not the hash of the access token sent.
	ErrATH error = &proofError{"DPoP proof ath does not match the access token"}
	// ErrReplayed: the key used this jti before, or the replay cache is
	// full (callers that keep one answer with it).
	ErrReplayed error = &proofError{"DPoP proof replayed"}
)

// ErrUseNonce: the server requires a nonce and the proof has none, or one
// the server does not accept (RFC 9449 §8, §9). It does not match
// ErrInvalidProof: the caller answers use_dpop_nonce with a fresh nonce in
// the DPoP-Nonce header, and the client retries.
var ErrUseNonce = errors.New("a DPoP proof with a fresh server nonce is required")

// proofError is the type of the specific errors.
type proofError struct{ msg string }

func (e *proofError) Error() string { return e.msg }

// Is makes every specific error match ErrInvalidProof.
func (e *proofError) Is(target error) bool { return target == ErrInvalidProof }

// invalid wraps one of the specific errors (or ErrUseNonce) with a detail
// for logs; the detail is never meant for the client.
func invalid(kind error, detail string) error {
	return &detailedError{kind: kind, detail: detail}
}

type detailedError struct {
	kind   error
	detail string
}

func (e *detailedError) Error() string {
	if e.detail == "" {
		return "dpop: " + e.kind.Error()
	}
	return "dpop: " + e.kind.Error() + ": " + e.detail
}

func (e *detailedError) Unwrap() error { return e.kind }

// Description returns the client-safe text of err: the message of the
// specific error or ErrUseNonce it wraps, without the detail, or that of
// ErrInvalidProof.
func Description(err error) string {
	if errors.Is(err, ErrUseNonce) {
		return ErrUseNonce.Error()
	}
	if pe, ok := errors.AsType[*proofError](err); ok {
		return pe.msg
	}
	return ErrInvalidProof.Error()
}
