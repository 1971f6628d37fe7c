package admin

import (
	"context"
	"slices"
	"strings"
)

// MaxExchangeSources bounds an API's accept_exchange_from list.
const MaxExchangeSources = 32

// checkExchangeFrom checks the audiences whose access tokens may be
// exchanged for a token to audience (RFC 8693 delegation, DESIGN §9):
// each names an API that exists (a template as written), none is
// audience itself (exchanging a token for one to the same API gains
// nothing but a longer chain) or one of gatehouse's own built-in APIs
// (an admin token must never be traded for a product token), and none
// is listed twice. It returns the list trimmed; empty clears it.
func (s *Service) checkExchangeFrom(ctx context.Context, audience string, from []string) ([]string, error) {
	out, err := CheckExchangeFrom(audience, from)
	if err != nil {
		return nil, err
	}
	for _, aud := range out {
		a, err := s.store.GetAPI(ctx, aud)
		if err != nil {
			return nil, notFoundAsInvalid(err, "accept_exchange_from names API %q, which does not exist", aud)
		}
		if a.BuiltIn {
			return nil, invalid("accept_exchange_from names the built-in API %s, whose tokens cannot be exchanged", aud)
		}
	}
	return out, nil
}

// CheckExchangeFrom checks what an accept_exchange_from list holds on its
// own, before its audiences are looked up (internal/declare calls it to
// check a whole file first): at most MaxExchangeSources, none empty,
// not audience itself, none twice. It returns the list trimmed.
func CheckExchangeFrom(audience string, from []string) ([]string, error) {
	if len(from) > MaxExchangeSources {
		return nil, invalid("accept_exchange_from lists at most %d audiences", MaxExchangeSources)
	}
	out := []string{}
	for _, aud := range from {
		aud = strings.TrimSpace(aud)
		switch {
		case aud == "":
			return nil, invalid("accept_exchange_from: an audience is empty")
		case aud == audience:
			return nil, invalid("accept_exchange_from names %s itself: list the other APIs whose tokens may be exchanged for this one", aud)
		case slices.Contains(out, aud):
			return nil, invalid("accept_exchange_from lists %s twice", aud)
		}
		out = append(out, aud)
	}
	return out, nil
}
