// Package jwtclaim holds the JSON forms of the registered JWT claims whose
// shape is not a plain string (RFC 7519 §4.1): aud, a string or an array,
// and the NumericDates exp, nbf and iat. verify (gatehouse's own tokens),
// assertion (tokens signed outside) and dpop (the iat of a proof) decode
// them the same way. It
// imports only the standard library, so the public verify package may
// use it.
package jwtclaim

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"time"
)

// Audience is the "aud" claim: a string or an array of strings (RFC 7519
// §4.1.3). An empty string is no audience.
type Audience []string

// UnmarshalJSON reads either form.
func (a *Audience) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		var list []string
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*a = list
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s != "" {
		*a = Audience{s}
	}
	return nil
}

// NumericDate is a JWT NumericDate: seconds since the epoch, possibly with
// a fraction (RFC 7519 §2).
type NumericDate struct{ T time.Time }

// maxNumericDate keeps seconds within what time.Unix handles exactly.
const maxNumericDate = 1 << 53

// ErrNumericDate is a NumericDate that is negative, too large or NaN.
var ErrNumericDate = errors.New("NumericDate out of range")

// UnmarshalJSON reads a JSON number.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if f < 0 || f > maxNumericDate || math.IsNaN(f) {
		return ErrNumericDate
	}
	sec, frac := math.Modf(f)
	d.T = time.Unix(int64(sec), int64(frac*1e9))
	return nil
}
