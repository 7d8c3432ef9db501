package emulator

import (
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func TestDiscoveryDocuments(t *testing.T) {
	e := start(t, Options{})
	c := e.Client()
	wf, ex := tenantOfType(e, Workforce), tenantOfType(e, ExternalID)
	sub := ex.Subdomain()
	cases := []struct {
		url, issuer, authorize string
	}{
		{"https://login.microsoftonline.com/" + wf.ID, "https://login.microsoftonline.com/" + wf.ID + "/v2.0", "https://login.microsoftonline.com/" + wf.ID + "/oauth2/v2.0/authorize"},
		{"https://login.microsoftonline.com/" + wf.Domain, "https://login.microsoftonline.com/" + wf.ID + "/v2.0", "https://login.microsoftonline.com/" + wf.ID + "/oauth2/v2.0/authorize"},
		{"https://login.microsoftonline.com/common", "https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"},
		{"https://login.microsoftonline.com/organizations", "https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"},
		{"https://" + sub + ".ciamlogin.com/" + ex.ID, "https://" + ex.ID + ".ciamlogin.com/" + ex.ID + "/v2.0", "https://" + sub + ".ciamlogin.com/" + ex.ID + "/oauth2/v2.0/authorize"},
		{"https://" + sub + ".ciamlogin.com/" + ex.Domain, "https://" + ex.ID + ".ciamlogin.com/" + ex.ID + "/v2.0", "https://" + sub + ".ciamlogin.com/" + ex.ID + "/oauth2/v2.0/authorize"},
		{"https://" + ex.ID + ".ciamlogin.com/" + ex.ID, "https://" + ex.ID + ".ciamlogin.com/" + ex.ID + "/v2.0", "https://" + ex.ID + ".ciamlogin.com/" + ex.ID + "/oauth2/v2.0/authorize"},
		{e.URL() + "/" + wf.ID, e.URL() + "/" + wf.ID + "/v2.0", e.URL() + "/" + wf.ID + "/oauth2/v2.0/authorize"},
		{e.URL() + "/ciam/" + sub + "/" + ex.Domain, e.URL() + "/ciam/" + ex.ID + "/" + ex.ID + "/v2.0", e.URL() + "/ciam/" + sub + "/" + ex.ID + "/oauth2/v2.0/authorize"},
	}
	for _, tc := range cases {
		var doc map[string]any
		resp := getJSON(t, c, tc.url+"/v2.0/.well-known/openid-configuration", &doc)
		if resp.StatusCode != 200 || doc["issuer"] != tc.issuer || doc["authorization_endpoint"] != tc.authorize {
			t.Errorf("%s: %d issuer %v authorize %v", tc.url, resp.StatusCode, doc["issuer"], doc["authorization_endpoint"])
		}
		for _, k := range []string{"token_endpoint", "jwks_uri", "end_session_endpoint", "device_authorization_endpoint"} {
			if s, _ := doc[k].(string); !strings.HasPrefix(s, "https://") || strings.Contains(s, "{") {
				t.Errorf("%s: %s = %v", tc.url, k, doc[k])
			}
		}
		if doc["frontchannel_logout_supported"] != true || doc["code_challenge_methods_supported"] != nil {
			t.Errorf("%s: frontchannel_logout_supported or an unexpected code_challenge_methods_supported", tc.url)
		}
	}
	// Unknown tenants, and a workforce tenant on an External ID host.
	for _, u := range []string{
		"https://login.microsoftonline.com/nosuch.onmicrosoft.com",
		"https://login.microsoftonline.com/contoso",
		"https://nosuch.ciamlogin.com/nosuch.onmicrosoft.com",
		"https://" + wf.ID + ".ciamlogin.com/" + wf.ID,
		"https://" + sub + ".ciamlogin.com/" + wf.ID,
	} {
		var body map[string]any
		resp := getJSON(t, c, u+"/v2.0/.well-known/openid-configuration", &body)
		if resp.StatusCode != 400 || errorCode(body) != 90002 {
			t.Errorf("%s: %d %v; want 400 AADSTS90002", u, resp.StatusCode, body)
		}
	}
}

func TestJWKSMatchesEntraShape(t *testing.T) {
	e := start(t, Options{})
	if err := e.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	wf := tenantOfType(e, Workforce)
	var jwks struct{ Keys []jwk }
	getJSON(t, e.Client(), "https://login.microsoftonline.com/"+wf.ID+"/discovery/v2.0/keys", &jwks)
	if len(jwks.Keys) != 2 {
		t.Fatalf("%d keys after one rotation; want 2", len(jwks.Keys))
	}
	for _, k := range jwks.Keys {
		der, err := base64.StdEncoding.DecodeString(k.X5c[0])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(der)
		if want := base64.RawURLEncoding.EncodeToString(sum[:]); k.Kid != want || k.X5t != want {
			t.Errorf("kid %s x5t %s; want base64url(SHA-1(DER)) %s", k.Kid, k.X5t, want)
		}
		if k.Kty != "RSA" || k.Use != "sig" || k.E != "AQAB" || k.Issuer != "https://login.microsoftonline.com/"+wf.ID+"/v2.0" {
			t.Errorf("key %+v", k)
		}
	}
	if jwks.Keys[0].Kid != e.keys.current().KID {
		t.Errorf("the signing key is not listed first")
	}
}

func TestInstanceDiscovery(t *testing.T) {
	e := start(t, Options{})
	c := e.Client()
	wf := tenantOfType(e, Workforce)
	cases := []struct {
		version, authorize string
		status             int
		alias, tde         string
	}{
		{"1.1", "https://login.microsoftonline.com/" + wf.ID + "/oauth2/v2.0/authorize", 200, "login.microsoftonline.com", "https://login.microsoftonline.com/" + wf.ID + "/v2.0/.well-known/openid-configuration"},
		{"1.0", "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize", 200, "contoso.ciamlogin.com", "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"},
		{"1.1", e.URL() + "/" + wf.ID + "/oauth2/v2.0/authorize", 200, strings.TrimPrefix(e.URL(), "https://"), e.URL() + "/" + wf.ID + "/v2.0/.well-known/openid-configuration"},
		{"1.1", "https://login.example.com/x/oauth2/v2.0/authorize", 400, "", ""},
	}
	for _, tc := range cases {
		var body struct {
			TDE      string `json:"tenant_discovery_endpoint"`
			Version  string `json:"api-version"`
			Error    string `json:"error"`
			Metadata []struct{ Aliases []string }
		}
		resp := getJSON(t, c, "https://login.microsoftonline.com/common/discovery/instance?api-version="+tc.version+"&authorization_endpoint="+url.QueryEscape(tc.authorize), &body)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d", tc.authorize, resp.StatusCode)
			continue
		}
		if tc.status != 200 {
			if body.Error != "invalid_instance" {
				t.Errorf("%s: error %q; want invalid_instance", tc.authorize, body.Error)
			}
			continue
		}
		found := false
		for _, m := range body.Metadata {
			for _, a := range m.Aliases {
				found = found || a == tc.alias
			}
		}
		if !found || body.TDE != tc.tde || body.Version != tc.version {
			t.Errorf("%s: %+v", tc.authorize, body)
		}
	}
}
