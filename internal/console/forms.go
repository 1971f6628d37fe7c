package console

import (
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/store"
)

// fieldWord says that an admin rule message whose subject is word is
// about a form's field.
type fieldWord struct{ word, field string }

// userError turns an error the user can fix (a broken rule, a clash) into
// a plain-words message next to the form field it is about ("" for the
// form as a whole). ok is false for any other error.
func userError(err error, existsField, existsText string, words ...fieldWord) (errs map[string]string, ok bool) {
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		return map[string]string{existsField: existsText}, true
	case errors.Is(err, admin.ErrInvalid):
		msg := strings.TrimPrefix(err.Error(), admin.ErrInvalid.Error()+": ")
		return map[string]string{fieldOf(msg, words): sentence(plainWords.Replace(msg))}, true
	}
	return nil, false
}

// plainWords names the admin API's wire fields in words in messages.
var plainWords = strings.NewReplacer(
	"token_ttl", "the token lifetime", "token_format", "the token format", "signing_alg", "the signing algorithm",
	"keep_old", "the time to keep the old secret", "reuse_window", "the reuse window", "expires_in", "the expiry",
	"auth_method", "the authentication method", "jwks_uri", "the JWKS URL", "jwks", "the JWKS", "tls_subject_kind", "the kind of TLS subject",
	"tls_subject", "the TLS subject", "max_age", "the maximum token age",
)

// fieldOf picks the field whose word comes first in msg; the earliest
// word is the subject of Service's messages ("token_ttl must be ...").
func fieldOf(msg string, words []fieldWord) string {
	field, at := "", len(msg)+1
	for _, w := range words {
		if i := strings.Index(msg, w.word); i >= 0 && i < at {
			field, at = w.field, i
		}
	}
	return field
}

// sentence starts msg with a capital letter and ends it with a full stop.
func sentence(msg string) string {
	r, n := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(r)) + msg[n:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// userStatus is the answer code of a form sent back with errors.
func userStatus(err error) int {
	if errors.Is(err, store.ErrAlreadyExists) {
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// field is a posted form value without surrounding spaces.
func field(r *http.Request, name string) string { return strings.TrimSpace(r.PostFormValue(name)) }

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
