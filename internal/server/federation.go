package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/admin"
	"github.com/gatehouse/gatehouse/internal/federation"
)

// testTrust runs `gatehouse trust test`: the trust as stored now (not as
// this node's catalog last saw it), compiled, through the node's
// federation engine and its cached keys.
func (s *Server) testTrust(ctx context.Context, tenant, name, raw string) (federation.Report, error) {
	t, err := s.store.GetTrust(ctx, tenant, name)
	if err != nil {
		return federation.Report{}, err
	}
	rep, err := s.issuer.Federation().Test(ctx, federation.CompileTrust(t), raw)
	if err != nil {
		return federation.Report{}, fmt.Errorf("%w: %v", admin.ErrInvalid, err)
	}
	return rep, nil
}

// warmTrust fetches the keys of a trust that changed (key "tenant/name"),
// in the background, so its first token request finds them cached.
func (s *Server) warmTrust(key string) {
	tenant, name, _ := strings.Cut(key, "/")
	if t, ok := s.catalog.Trust(tenant, name); ok {
		s.issuer.Federation().Warm(t)
	}
}
