package server

import (
	"context"
	"fmt"

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
