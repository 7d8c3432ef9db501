package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ErrKindUnknown means the sign-in service gave no clear answer (network error, 5xx, throttling):
// the caller goes on with the kind the person chose and says so.
var ErrKindUnknown = errors.New("could not tell the tenant's kind")

// IsExternalIDTenant asks the sign-in service, without a token, whether a tenant is an External
// ID (CIAM) tenant: only such a tenant has a discovery document on its ciamlogin.com host.
//
// Why this signal: the tool's delegated token holds User.Read, with which Graph returns the
// organization's tenantType as null ("Applications granted the User.Read permission are able to
// read only the id, displayName, and verifiedDomains properties of the organization", v1.0
// organization-get; facts/tenants.md §6), and asking for Organization.Read.All only to learn the
// kind would need admin consent for one more scope. The document is public: "For external
// tenants, the document is publicly available at
// https://{tenantname}.ciamlogin.com/{tenantid}/v2.0/.well-known/openid-configuration. This
// endpoint returns an issuer value https://{tenantid}.ciamlogin.com/{tenantid}/v2.0"
// (entra-docs security-tokens.md; facts/identity.md §1.3); the GUID host serves it too. What
// ciamlogin.com answers for a workforce or B2C tenant is not documented [unverified]: any
// answer that is not that document with that issuer counts as "not External ID", and only an
// answer that says nothing (network error, 5xx, 429) is ErrKindUnknown.
func (c Cloud) IsExternalIDTenant(ctx context.Context, tenantID string) (bool, error) {
	if !c.SupportsExternalID() {
		return false, nil // External ID exists only in the public cloud
	}
	if !IsGUID(tenantID) {
		return false, fmt.Errorf("%w: %q is not a tenant id (GUID)", ErrKindUnknown, tenantID)
	}
	id := strings.ToLower(tenantID)
	base := c.CIAMBase(id) + "/" + id
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v2.0/.well-known/openid-configuration", nil)
	if err != nil {
		return false, err
	}
	res, err := c.HTTPClient().Do(req)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrKindUnknown, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrKindUnknown, err)
	}
	switch {
	case res.StatusCode == http.StatusOK:
		var doc struct {
			Issuer string `json:"issuer"`
		}
		if json.Unmarshal(body, &doc) != nil {
			return false, fmt.Errorf("%w: the External ID discovery document is not JSON", ErrKindUnknown)
		}
		return strings.EqualFold(strings.TrimRight(doc.Issuer, "/"), base+"/v2.0"), nil
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return false, fmt.Errorf("%w: %s answered %s", ErrKindUnknown, req.URL.Host, res.Status)
	default:
		return false, nil // e.g. 400 AADSTS90002 "Tenant not found": not an External ID tenant
	}
}
