package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
)

// ValidateTenant checks a --tenant value: a GUID or a domain name. The error says which forms are
// accepted and where to find them.
func ValidateTenant(s string) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return fmt.Errorf("the tenant is empty: give its id (a GUID) or a domain such as contoso.onmicrosoft.com (Entra admin center > Overview)")
	case guidRE.MatchString(s):
		return nil
	case strings.EqualFold(s, "common") || strings.EqualFold(s, "organizations") || strings.EqualFold(s, "consumers"):
		return fmt.Errorf("%q is not one tenant: give the tenant's id (a GUID) or its domain, e.g. contoso.onmicrosoft.com", s)
	case domainRE.MatchString(s) && len(s) <= 253:
		return nil
	}
	return fmt.Errorf("%q is neither a tenant id (a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47) nor a domain (like contoso.onmicrosoft.com)", s)
}

// IsGUID reports whether s is a tenant id.
func IsGUID(s string) bool { return guidRE.MatchString(strings.TrimSpace(s)) }

// ResolveTenant turns a tenant domain into its id through the tenant's OpenID discovery document,
// whose issuer names the id; a GUID is returned as it is.
func ResolveTenant(ctx context.Context, c Cloud, tenant string) (string, error) {
	tenant = strings.TrimSpace(tenant)
	if err := ValidateTenant(tenant); err != nil {
		return "", err
	}
	if IsGUID(tenant) {
		return strings.ToLower(tenant), nil
	}
	u := c.Authority(tenant) + "/v2.0/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("look up tenant %s: %w (check the network, or pass the tenant id instead)", tenant, err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer           string `json:"issuer"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("tenant %s was not found in the %s cloud (%s): check the spelling, or pass the tenant id", tenant, c.Name, firstLine(doc.ErrorDescription))
	}
	for _, part := range strings.Split(doc.Issuer, "/") {
		if IsGUID(part) {
			return strings.ToLower(part), nil
		}
	}
	return "", fmt.Errorf("tenant %s: the discovery document's issuer %q names no tenant id; pass the tenant id instead", tenant, doc.Issuer)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\r")
	s, _, _ = strings.Cut(s, "\n")
	if s == "" {
		return "no details"
	}
	return s
}
