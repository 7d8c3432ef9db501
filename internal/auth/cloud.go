// Package auth is the wizard's own sign-in to Microsoft Graph (azidentity) and the clouds it can
// talk to. A cloud is data: where its sign-in service and Graph live, how External ID hosts are
// named, and the HTTP transport this process uses to reach it. The built-in emulator is one more
// cloud, whose CA is trusted by this process only.
package auth

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Cloud is one Microsoft cloud, or the emulator.
type Cloud struct {
	// Name is public, usgov, china or emulator.
	Name string
	// LoginBase is the sign-in service, e.g. https://login.microsoftonline.com (no trailing slash).
	LoginBase string
	// GraphBase is Microsoft Graph, e.g. https://graph.microsoft.com (no trailing slash, no version).
	GraphBase string
	// CIAMBaseTemplate makes the External ID host of a tenant from its subdomain:
	// https://{subdomain}.ciamlogin.com. Empty where External ID is not offered.
	CIAMBaseTemplate string
	// AzureCLIName is the cloud's name in the Azure CLI (az cloud list): an az login counts only
	// in the same cloud. Empty for the emulator.
	AzureCLIName string
	// Transport reaches the cloud; nil means Go's default transport. The emulator's trusts only
	// its own CA.
	Transport http.RoundTripper
}

// Clouds are the Microsoft clouds by --cloud name.
var clouds = map[string]Cloud{
	"public": {Name: "public", LoginBase: "https://login.microsoftonline.com", GraphBase: "https://graph.microsoft.com", CIAMBaseTemplate: "https://{subdomain}.ciamlogin.com", AzureCLIName: "AzureCloud"},
	"usgov":  {Name: "usgov", LoginBase: "https://login.microsoftonline.us", GraphBase: "https://graph.microsoft.us", AzureCLIName: "AzureUSGovernment"},
	"china":  {Name: "china", LoginBase: "https://login.chinacloudapi.cn", GraphBase: "https://microsoftgraph.chinacloudapi.cn", AzureCLIName: "AzureChinaCloud"},
}

// CloudNames lists the --cloud values.
func CloudNames() []string { return []string{"public", "usgov", "china"} }

// CloudByName returns a Microsoft cloud by its --cloud name.
func CloudByName(name string) (Cloud, error) {
	c, ok := clouds[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Cloud{}, fmt.Errorf("unknown cloud %q: use one of %s", name, strings.Join(CloudNames(), ", "))
	}
	return c, nil
}

// EmulatorCloud is the built-in emulator reached at its local base (https://localhost:PORT),
// trusting caPEM only in this process. Every URL, including the ones handed to a browser, then
// stays on this machine: a browser opened on a sign-in page can never land on the real service.
func EmulatorCloud(baseURL string, caPEM []byte) (Cloud, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return Cloud{}, fmt.Errorf("emulator URL %q: want https://localhost:PORT as printed by 'entra-quickstart emulator'", baseURL)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return Cloud{}, fmt.Errorf("the emulator's CA file holds no PEM certificate: pass the ca_file the emulator printed")
	}
	base := u.Scheme + "://" + u.Host
	return Cloud{
		Name:             "emulator",
		LoginBase:        base,
		GraphBase:        base,
		CIAMBaseTemplate: base + "/ciam/{subdomain}",
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 32,
			IdleConnTimeout:     30 * time.Second,
		},
	}, nil
}

// Emulated reports whether this is the emulator.
func (c Cloud) Emulated() bool { return c.Name == "emulator" }

// HTTPClient is a client over the cloud's transport.
func (c Cloud) HTTPClient() *http.Client {
	return &http.Client{Transport: c.Transport, Timeout: 2 * time.Minute}
}

// SupportsExternalID reports whether External ID tenants exist in this cloud.
func (c Cloud) SupportsExternalID() bool { return c.CIAMBaseTemplate != "" }

// CIAMBase is the External ID host of a tenant, e.g. https://contoso.ciamlogin.com.
func (c Cloud) CIAMBase(subdomain string) string {
	return strings.ReplaceAll(c.CIAMBaseTemplate, "{subdomain}", strings.ToLower(subdomain))
}

// SignInHosts are the hosts a sample's credential may be sent to in this cloud: the sign-in
// service's host (with its port for the emulator) and, where External ID exists, its hosts as a
// pattern ("*.ciamlogin.com"; the emulator serves them under its own base).
func (c Cloud) SignInHosts() []string {
	var out []string
	if u, err := url.Parse(c.LoginBase); err == nil && u.Host != "" {
		out = append(out, u.Host)
	}
	if u, err := url.Parse(strings.ReplaceAll(c.CIAMBaseTemplate, "{subdomain}", "x")); err == nil && u.Host != "" && !slices.Contains(out, u.Host) {
		out = append(out, "*"+strings.TrimPrefix(u.Host, "x"))
	}
	return out
}

// Authority is the workforce sign-in authority of a tenant, e.g.
// https://login.microsoftonline.com/<tenant-id>. The wizard signs in to Graph here for both tenant
// kinds: admins of an External ID tenant sign in through login.microsoftonline.com too.
func (c Cloud) Authority(tenant string) string { return c.LoginBase + "/" + tenant }

// TokenURL is a tenant's v2.0 token endpoint on the sign-in service.
func (c Cloud) TokenURL(tenant string) string { return c.Authority(tenant) + "/oauth2/v2.0/token" }

// GraphURL is Graph's v1.0 base URL.
func (c Cloud) GraphURL() string { return c.GraphBase + "/v1.0" }

// GraphHost is Graph's host name without port: the SDK sends tokens only to it.
func (c Cloud) GraphHost() string {
	u, _ := url.Parse(c.GraphBase)
	return u.Hostname()
}

// GraphScope turns a Graph permission into a scope, e.g. https://graph.microsoft.com/User.Read;
// ".default" gives the static-consent scope.
func (c Cloud) GraphScope(permission string) string {
	g := c.GraphBase
	if c.Emulated() {
		// The emulator plays graph.microsoft.com: scopes name Graph, not the local base.
		g = "https://graph.microsoft.com"
	}
	return g + "/" + permission
}
