package declare

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/store"
)

// apiSpec is an API in a document; absent fields take the defaults of
// `api create` (24h, jwt, RS256, no service, no reuse window).
type apiSpec struct {
	Audience    string      `yaml:"audience" json:"audience"`
	Name        string      `yaml:"name,omitempty" json:"name,omitempty"`
	Scopes      []scopeSpec `yaml:"scopes,omitempty" json:"scopes,omitempty"`
	TokenTTL    Duration    `yaml:"token_ttl,omitempty" json:"token_ttl,omitempty"`
	TokenFormat string      `yaml:"token_format,omitempty" json:"token_format,omitempty"`
	SigningAlg  string      `yaml:"signing_alg,omitempty" json:"signing_alg,omitempty"`
	Service     string      `yaml:"service,omitempty" json:"service,omitempty"`
	ReuseWindow Duration    `yaml:"reuse_window,omitempty" json:"reuse_window,omitempty"`
	// AcceptExchangeFrom lists the APIs whose access tokens a client may
	// exchange for this one's (RFC 8693 delegation), sorted.
	AcceptExchangeFrom []string `yaml:"accept_exchange_from,omitempty" json:"accept_exchange_from,omitempty"`

	builtIn bool
}

// scopeSpec is a scope: its name alone, or name and description.
type scopeSpec struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

func (s *scopeSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s.Name = n.Value
		return nil
	}
	type plain scopeSpec
	return n.Decode((*plain)(s))
}

func (s scopeSpec) MarshalYAML() (any, error) {
	if s.Description == "" {
		return s.Name, nil
	}
	type plain scopeSpec
	return plain(s), nil
}

func (a apiSpec) key() string { return a.Audience }

// refs are the APIs accept_exchange_from names: each must exist, and not
// be a built-in one (an admin token is never exchanged).
func (a apiSpec) refs() []ref {
	rs := make([]ref, len(a.AcceptExchangeFrom))
	for i, aud := range a.AcceptExchangeFrom {
		rs[i] = ref{kind: "api", key: aud, field: "accept_exchange_from", check: func(t spec) error {
			if t.(apiSpec).builtIn {
				return fmt.Errorf("accept_exchange_from names the built-in API %s, whose tokens cannot be exchanged", aud)
			}
			return nil
		}}
	}
	return rs
}

func (a apiSpec) fields() []field {
	scopes := make([]string, len(a.Scopes))
	for i, s := range a.Scopes {
		scopes[i] = s.Name
		if s.Description != "" {
			scopes[i] += fmt.Sprintf("=%q", s.Description)
		}
	}
	return []field{
		{name: "name", value: a.Name},
		{name: "scopes", value: strings.Join(scopes, " ")},
		{name: "token_ttl", value: a.TokenTTL.String()},
		{name: "token_format", value: a.TokenFormat},
		{name: "signing_alg", value: a.SigningAlg},
		{name: "service", value: a.Service},
		{name: "reuse_window", value: a.ReuseWindow.String()},
		{name: "accept_exchange_from", value: strings.Join(a.AcceptExchangeFrom, " ")},
	}
}

func (a apiSpec) store() store.API {
	sc := make([]store.Scope, len(a.Scopes))
	for i, s := range a.Scopes {
		sc[i] = store.Scope(s)
	}
	return store.API{Audience: a.Audience, Name: a.Name, Scopes: sc, TokenTTL: time.Duration(a.TokenTTL),
		TokenFormat: a.TokenFormat, SigningAlg: a.SigningAlg, Service: a.Service, ReuseWindow: time.Duration(a.ReuseWindow)}
}

func apiFromView(v admin.APIView) apiSpec {
	a := apiSpec{Audience: v.Audience, Name: v.Name, TokenTTL: Duration(v.TokenTTL), TokenFormat: v.TokenFormat,
		SigningAlg: v.SigningAlg, Service: v.Service, builtIn: v.BuiltIn}
	for _, s := range v.Scopes {
		a.Scopes = append(a.Scopes, scopeSpec(s))
	}
	if v.ReuseWindow != nil {
		a.ReuseWindow = Duration(*v.ReuseWindow)
	}
	a.AcceptExchangeFrom = sortedOrNil(v.AcceptExchangeFrom)
	return a
}

// input is the admin API's body for creating or replacing the API.
func (a apiSpec) input() admin.APIInput {
	st := a.store()
	ttl, reuse := admin.Duration(st.TokenTTL), admin.Duration(st.ReuseWindow)
	from := append([]string{}, a.AcceptExchangeFrom...) // [] clears the list
	return admin.APIInput{Audience: a.Audience, Name: &st.Name, Scopes: &st.Scopes, TokenTTL: &ttl,
		TokenFormat: &st.TokenFormat, SigningAlg: &st.SigningAlg, Service: &st.Service, ReuseWindow: &reuse,
		AcceptExchangeFrom: &from}
}

// sortedOrNil is a list sorted, or nil when empty (so documents omit it).
func sortedOrNil(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(list))
}

// checkExchangeFrom checks accept_exchange_from with the admin API's
// rule, as far as the file alone can (that each names an API is a
// reference), and sorts it.
func checkExchangeFrom(a apiSpec) ([]string, error) {
	out, err := admin.CheckExchangeFrom(a.Audience, a.AcceptExchangeFrom)
	if err != nil {
		return nil, adminMessage(err)
	}
	return sortedOrNil(out), nil
}

var apis = &kindOf[apiSpec]{
	one: "api", many: "apis",
	check: func(a apiSpec) (apiSpec, error) {
		if strings.HasPrefix(a.Audience, "urn:gatehouse:") {
			return a, errors.New("audiences under urn:gatehouse: are gatehouse's built-in APIs, which a file does not declare (grants may name them)")
		}
		st := a.store()
		if err := st.Validate(); err != nil {
			return a, err
		}
		if st.Name == "" {
			st.Name = st.Audience
		}
		a.Name, a.TokenTTL, a.TokenFormat, a.SigningAlg = st.Name, Duration(st.TokenTTL), st.TokenFormat, st.SigningAlg
		var err error
		a.AcceptExchangeFrom, err = checkExchangeFrom(a)
		return a, err
	},
	list: func(ctx context.Context, a Admin) ([]apiSpec, error) {
		var vs []admin.APIView
		if err := a.Do(ctx, "GET", "/admin/v1/apis", nil, &vs); err != nil {
			return nil, err
		}
		out := make([]apiSpec, len(vs))
		for i, v := range vs {
			out[i] = apiFromView(v)
		}
		return out, nil
	},
	managed: func(a apiSpec) bool { return !a.builtIn },
	create: func(ctx context.Context, ad Admin, a apiSpec) ([]Result, error) {
		return nil, ad.Do(ctx, "POST", "/admin/v1/apis", a.input(), nil)
	},
	update: func(ctx context.Context, ad Admin, want, have apiSpec) ([]Result, error) {
		in := want.input()
		if slices.Equal(want.AcceptExchangeFrom, have.AcceptExchangeFrom) {
			in.AcceptExchangeFrom = nil // unchanged: not checked again
		}
		return nil, ad.Do(ctx, "PATCH", "/admin/v1/apis"+adminclient.Path(want.Audience), in, nil)
	},
	remove: func(ctx context.Context, ad Admin, a apiSpec) error {
		return ad.Do(ctx, "DELETE", "/admin/v1/apis"+adminclient.Path(a.Audience), nil, nil)
	},
}
