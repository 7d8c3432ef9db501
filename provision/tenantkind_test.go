package provision

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/graph"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// TestTenantKind: Graph's tenantType decides where the token may read it; otherwise the sign-in
// service's External ID document does; a B2C tenant is refused; with no answer the kind is left
// empty with the reason.
func TestTenantKind(t *testing.T) {
	errUnknown := errors.New("could not tell the tenant's kind: connection refused")
	tests := []struct {
		name       string
		tenantType string
		probe      func(context.Context, string) (bool, error)
		want       samples.TenantType
		from, err  string
	}{
		{"graph says CIAM", "CIAM", nil, External, "tenantType CIAM", ""},
		{"graph says AAD, probe not asked", "AAD", func(context.Context, string) (bool, error) { panic("asked") }, Workforce, "tenantType AAD", ""},
		{"B2C refused", "AAD B2C", nil, "", "", "Azure AD B2C tenant"},
		{"an unknown type refused", "Other", nil, "", "", "does not know"},
		{"hidden, probe finds External ID", "", func(context.Context, string) (bool, error) { return true, nil }, External, "sign-in service", ""},
		{"hidden, probe finds none", "", func(context.Context, string) (bool, error) { return false, nil }, Workforce, "sign-in service", ""},
		{"hidden, probe cannot tell", "", func(context.Context, string) (bool, error) { return false, errUnknown }, "", "connection refused", ""},
		{"hidden, no probe", "", nil, "", "not checked", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &Engine{probe: tc.probe}
			org := graph.Organization{ID: "3f1b0c2e-0000-4000-8000-000000000001", TenantType: tc.tenantType,
				Domains: []graph.Domain{{Name: "contoso.onmicrosoft.com", IsInitial: true}}}
			got, err := e.tenantKind(context.Background(), org, nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "sign in to") {
					t.Fatalf("err = %v; want one naming %q and what to do", err, tc.err)
				}
				return
			}
			if err != nil || got.Type != tc.want || !strings.Contains(got.KindFrom, tc.from) || got.Subdomain != "contoso" {
				t.Fatalf("got %+v, %v; want %q from %q", got, err, tc.want, tc.from)
			}
		})
	}
}
