package admin

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TrustTester runs one trust's checks and rules over an outside token and
// explains each verdict, changing nothing (federation.Engine.Test over
// the stored trust). A missing trust is store.ErrNotFound; a token that
// cannot even be decoded is ErrInvalid.
type TrustTester func(ctx context.Context, tenant, name, token string) (federation.Report, error)

// TrustTest answers POST /admin/v1/tenants/{tenant}/trusts/{name}/test
// (admin:read): body {"token": "<outside JWT>"}, answer the decoded header
// and claims, each check's and each rule's verdict, and a summary, so an
// operator sees why a workload is refused without reading logs.
func (h *Handler) TrustTest(test TrustTester) http.Handler {
	return h.auth(store.ScopeRead)(func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Token string `json:"token"`
		}
		if err := decode(r, &in); err != nil {
			return err
		}
		if in.Token == "" {
			return invalid("token is required: the outside token to test")
		}
		rep, err := test(r.Context(), r.PathValue("tenant"), r.PathValue("name"), in.Token)
		if err != nil {
			return err
		}
		return reply(w, http.StatusOK, rep)
	})
}
