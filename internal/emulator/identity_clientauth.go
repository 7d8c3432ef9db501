package emulator

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// authenticateForPlatform applies the client authentication a redemption needs: a web app
// must prove itself (secret or certificate assertion); a public client must not send a
// credential; a single-page app's code may only be redeemed cross-origin. d must be locked.
func (e *Emulator) authenticateForPlatform(req *tokenRequest, d *Directory, t *Tenant, c client, p platform) *tokenErr {
	secret, hasSecret := req.form.Get("client_secret"), req.form.Has("client_secret")
	if _, pw, ok := req.r.BasicAuth(); ok && !hasSecret {
		secret, hasSecret = pw, true
		if s, err := url.QueryUnescape(pw); err == nil { // RFC 6749 §2.3.1: form-encoded
			secret = s
		}
	}
	assertion := req.form.Get("client_assertion")
	hasCred := hasSecret || assertion != ""
	switch p {
	case platformSPA:
		if req.r.Header.Get("Origin") == "" {
			return e.terr("invalid_request", 9002327, "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.")
		}
		fallthrough
	case platformPublic:
		if hasCred {
			return e.terr("invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
		}
		return nil
	}
	if c.firstParty != nil {
		if hasCred {
			return e.terr("invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
		}
		return nil
	}
	if !hasCred {
		if c.public() {
			return nil
		}
		return e.terr("invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	if assertion != "" {
		if typ := req.form.Get("client_assertion_type"); typ != assertionTypeJWT {
			return e.terr("invalid_request", 900144, "The request body must contain the following parameter: 'client_assertion_type'.")
		}
		return e.verifyClientAssertion(req, t, c, assertion)
	}
	return e.checkSecret(c, secret)
}

// checkSecret compares a client secret with the app's password credentials. A secret that is
// still replicating is refused as wrong (AADSTS7000215), as Entra does for a few seconds after
// addPassword.
func (e *Emulator) checkSecret(c client, secret string) *tokenErr {
	now := e.now()
	for _, pc := range c.app.PasswordCredentials {
		if pc.SecretText == "" || subtle.ConstantTimeCompare([]byte(pc.SecretText), []byte(secret)) != 1 {
			continue
		}
		if !e.visible(pc.VisibleAt) || (!pc.StartDateTime.IsZero() && now.Before(pc.StartDateTime.Add(-5*time.Minute))) {
			break
		}
		if !pc.EndDateTime.IsZero() && now.After(pc.EndDateTime) {
			return e.terr("invalid_client", 7000222, fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds", c.app.AppID))
		}
		return nil
	}
	return e.terr("invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", c.app.AppID))
}

// decodeThumbprint reads an x5t / x5t#S256 header in base64url (the standard) or in standard
// base64 with padding (what MSAL Go sends).
func decodeThumbprint(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

const assertionSkew = 5 * time.Minute

// verifyClientAssertion checks a certificate client assertion (RFC 7523, Entra's
// certificate-credentials): RS256 or PS256, the certificate found by x5t (SHA-1) or x5t#S256
// (SHA-256) among the app's keyCredentials, aud the token endpoint, iss = sub = client id, and
// the time range.
func (e *Emulator) verifyClientAssertion(req *tokenRequest, t *Tenant, c client, assertion string) *tokenErr {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return e.terr("invalid_client", 50027, "JWT token is invalid or malformed.")
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return e.terr("invalid_client", 50027, "JWT token is invalid or malformed.")
	}
	var h struct {
		Alg     string `json:"alg"`
		X5t     string `json:"x5t"`
		X5tS256 string `json:"x5t#S256"`
	}
	if json.Unmarshal(hb, &h) != nil {
		return e.terr("invalid_client", 50027, "JWT token is invalid or malformed.")
	}
	if h.Alg != "RS256" && h.Alg != "PS256" {
		return e.terr("invalid_client", 700027, fmt.Sprintf("Client assertion failed signature validation. [Reason - The algorithm '%s' is not supported.]", h.Alg))
	}
	var kc *KeyCredential
	var printed string
	for i := range c.app.KeyCredentials {
		k := &c.app.KeyCredentials[i]
		if k.Usage != "" && !strings.EqualFold(k.Usage, "Verify") {
			continue
		}
		s1, s256 := sha1.Sum(k.Key), sha256.Sum256(k.Key)
		if b, ok := decodeThumbprint(h.X5tS256); ok && h.X5tS256 != "" {
			printed = strings.ToUpper(hex.EncodeToString(b))
			if subtle.ConstantTimeCompare(b, s256[:]) == 1 {
				kc = k
				break
			}
		}
		if b, ok := decodeThumbprint(h.X5t); ok && h.X5t != "" {
			printed = strings.ToUpper(hex.EncodeToString(b))
			if subtle.ConstantTimeCompare(b, s1[:]) == 1 {
				kc = k
				break
			}
		}
	}
	if kc == nil {
		if printed == "" {
			if b, ok := decodeThumbprint(h.X5t + h.X5tS256); ok {
				printed = strings.ToUpper(hex.EncodeToString(b))
			}
		}
		return e.terr("invalid_client", 700027, fmt.Sprintf("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments if you are not using a global endpoint.]", printed, c.app.AppID))
	}
	now := e.now()
	if !kc.EndDateTime.IsZero() && now.After(kc.EndDateTime) {
		return e.terr("invalid_client", 700027, "Client assertion contains an invalid signature. [Reason - The key used is expired.]")
	}
	cert, err := x509.ParseCertificate(kc.Key)
	pub, ok := (*rsa.PublicKey)(nil), false
	if err == nil {
		pub, ok = cert.PublicKey.(*rsa.PublicKey)
	}
	if !ok {
		return e.terr("invalid_client", 700027, "Client assertion failed signature validation. [Reason - The registered key is not an RSA certificate.]")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if h.Alg == "PS256" {
		err = rsa.VerifyPSS(pub, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	} else {
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	}
	if err != nil {
		return e.terr("invalid_client", 700027, "Client assertion failed signature validation.")
	}
	var cl struct {
		Aud any     `json:"aud"`
		Iss string  `json:"iss"`
		Sub string  `json:"sub"`
		Exp float64 `json:"exp"`
		Nbf float64 `json:"nbf"`
	}
	if json.Unmarshal(cb, &cl) != nil {
		return e.terr("invalid_client", 50027, "JWT token is invalid or malformed.")
	}
	if !strings.EqualFold(cl.Iss, c.app.AppID) || !strings.EqualFold(cl.Sub, c.app.AppID) {
		return e.terr("invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	exp, nbf := time.Unix(int64(cl.Exp), 0), time.Unix(int64(cl.Nbf), 0)
	if cl.Exp == 0 || now.After(exp.Add(assertionSkew)) || (cl.Nbf != 0 && now.Add(assertionSkew).Before(nbf)) {
		return e.terr("invalid_client", 700024, fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .",
			now.UTC().Format("2006-01-02T15:04:05.0000000Z"), nbf.UTC().Format("2006-01-02T15:04:05.0000000Z"), exp.UTC().Format("2006-01-02T15:04:05.0000000Z")))
	}
	if !audienceMatches(cl.Aud, req, t) {
		return e.terr("invalid_client", 50012, "Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	return nil
}

// audienceMatches accepts the token endpoint of the tenant, by id or domain, as this client
// reached it or under the real sign-in host (v2.0 and v1 paths).
func audienceMatches(aud any, req *tokenRequest, t *Tenant) bool {
	var auds []string
	switch v := aud.(type) {
	case string:
		auds = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				auds = append(auds, s)
			}
		}
	}
	s := req.auth.site
	var ok []string
	for _, base := range []string{s.base, s.loginBase, "https://login.microsoftonline.com"} {
		for _, seg := range []string{t.ID, t.Domain, req.auth.seg} {
			if seg == "" {
				continue
			}
			ok = append(ok, base+"/"+seg+"/oauth2/v2.0/token", base+"/"+seg+"/oauth2/token")
		}
		if req.auth.seg == "" {
			ok = append(ok, base+"/oauth2/v2.0/token")
		}
	}
	for _, a := range auds {
		a = strings.TrimSuffix(a, "/")
		for _, x := range ok {
			if strings.EqualFold(a, x) {
				return true
			}
		}
	}
	return false
}
