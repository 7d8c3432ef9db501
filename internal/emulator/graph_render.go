package emulator

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"
)

// graphContentTypeNoMetadata is the Content-Type of an answer to odata.metadata=none.
const graphContentTypeNoMetadata = "application/json;odata.metadata=none;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// noMetadata reports whether the request's Accept header asks for JSON with
// odata.metadata=none (the CLI for Microsoft 365 sends `application/json;odata.metadata=none`).
// Without it Graph answers with minimal metadata, the default.
func noMetadata(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, rng := range strings.Split(v, ",") {
			typ, ps, err := mime.ParseMediaType(strings.TrimSpace(rng))
			if err != nil || (typ != "application/json" && typ != "*/*" && typ != "application/*") {
				continue
			}
			for k, val := range ps {
				if strings.EqualFold(k, "odata.metadata") && strings.EqualFold(val, "none") {
					return true
				}
			}
		}
	}
	return false
}

// withoutControlInfo is an answer body without OData control information, as odata.metadata=none
// asks: the OData JSON format (§3.1.3) leaves out every annotation but odata.nextLink and
// odata.count (@odata.context, @odata.type, @odata.id, @odata.etag, and property annotations
// such as includeApplications@odata.context), at every depth.
func withoutControlInfo(body any) any {
	b, err := json.Marshal(body)
	if err != nil {
		return body
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return body
	}
	return stripControl(v)
}

func stripControl(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if i := strings.Index(k, "@"); i >= 0 {
				if name := k[i+1:]; i > 0 || (name != "odata.nextLink" && name != "odata.count") {
					delete(x, k)
					continue
				}
			}
			x[k] = stripControl(val)
		}
	case []any:
		for i := range x {
			x[i] = stripControl(x[i])
		}
	}
	return v
}

// Graph's wire shapes, rendered from the store's types. Properties the emulator does not model
// are rendered with Graph's defaults (null, [] or the documented empty object); what a client
// set and the emulator keeps verbatim (Extra) overrides them. Every renderer returns what JSON
// decoding gives, so $filter and $select work on exactly what the client would see.

// graphTime is Graph's date-time form: UTC with 7 fractional digits, as the service writes it.
func graphTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

func graphTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return graphTime(*t)
}

func strPtr(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func list[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

var emptyInfo = map[string]any{"logoUrl": nil, "marketingUrl": nil, "privacyStatementUrl": nil, "supportUrl": nil, "termsOfServiceUrl": nil}

// renderApp is an application as Graph returns it. withKeys includes keyCredentials.key, which
// Graph returns only when $select names keyCredentials, for one object or a list (the v1.0
// list-applications doc: "To retrieve the public key info in key, the keyCredentials property
// must be specified in a $select query").
func renderApp(a *Application, withKeys bool) map[string]any {
	reqVersion := any(nil)
	if strings.Contains(a.SignInAudience, "Personal") {
		reqVersion = 2
	}
	var settings []any
	for _, u := range a.Web.RedirectURIs {
		settings = append(settings, map[string]any{"uri": u, "index": nil})
	}
	pw := make([]any, 0, len(a.PasswordCredentials))
	for _, p := range a.PasswordCredentials {
		pw = append(pw, renderPassword(p, false))
	}
	keys := make([]any, 0, len(a.KeyCredentials))
	for _, k := range a.KeyCredentials {
		keys = append(keys, renderKey(k, withKeys))
	}
	m := map[string]any{
		"id":                                a.ID,
		"deletedDateTime":                   graphTimePtr(a.DeletedDateTime),
		"appId":                             a.AppID,
		"applicationTemplateId":             nil,
		"disabledByMicrosoftStatus":         nil,
		"createdDateTime":                   graphTime(a.CreatedDateTime),
		"defaultRedirectUri":                nil,
		"description":                       strPtr(a.Description),
		"displayName":                       a.DisplayName,
		"groupMembershipClaims":             nil,
		"identifierUris":                    list(a.IdentifierURIs),
		"isDeviceOnlyAuthSupported":         nil,
		"isFallbackPublicClient":            nil,
		"nativeAuthenticationApisEnabled":   nil,
		"notes":                             strPtr(a.Notes),
		"publisherDomain":                   a.PublisherDomain,
		"serviceManagementReference":        nil,
		"signInAudience":                    a.SignInAudience,
		"samlMetadataUrl":                   nil,
		"tags":                              list(a.Tags),
		"tokenEncryptionKeyId":              nil,
		"uniqueName":                        strPtr(a.UniqueName),
		"certification":                     nil,
		"optionalClaims":                    nil,
		"requestSignatureVerification":      nil,
		"servicePrincipalLockConfiguration": nil,
		"addIns":                            []any{},
		"api": map[string]any{
			"acceptMappedClaims": nil, "knownClientApplications": []any{}, "requestedAccessTokenVersion": reqVersion,
			"oauth2PermissionScopes": []any{}, "preAuthorizedApplications": []any{},
		},
		"appRoles":                []any{},
		"info":                    emptyInfo,
		"keyCredentials":          keys,
		"parentalControlSettings": map[string]any{"countriesBlockedForMinors": []any{}, "legalAgeGroupRule": "Allow"},
		"passwordCredentials":     pw,
		"publicClient":            map[string]any{"redirectUris": list(a.PublicClient.RedirectURIs)},
		"requiredResourceAccess":  list(a.RequiredResourceAccess),
		"verifiedPublisher":       map[string]any{"displayName": nil, "verifiedPublisherId": nil, "addedDateTime": nil},
		"web": map[string]any{
			"homePageUrl":  strPtr(a.Web.HomePageURL),
			"logoutUrl":    strPtr(a.Web.LogoutURL),
			"redirectUris": list(a.Web.RedirectURIs),
			"implicitGrantSettings": map[string]any{
				"enableAccessTokenIssuance": a.Web.ImplicitGrantSettings.EnableAccessTokenIssuance,
				"enableIdTokenIssuance":     a.Web.ImplicitGrantSettings.EnableIDTokenIssuance,
			},
			"redirectUriSettings": list(settings),
		},
		"spa": map[string]any{"redirectUris": list(a.Spa.RedirectURIs)},
	}
	for k, v := range a.Extra {
		m[k] = v
	}
	return generic(m)
}

// renderPassword is a passwordCredential; secretText only in the answer that made it.
func renderPassword(p PasswordCredential, withSecret bool) map[string]any {
	m := map[string]any{
		"customKeyIdentifier": strPtr(p.CustomKeyIdentifier),
		"displayName":         strPtr(p.DisplayName),
		"endDateTime":         graphTime(p.EndDateTime),
		"hint":                p.Hint,
		"keyId":               p.KeyID,
		"secretText":          nil,
		"startDateTime":       graphTime(p.StartDateTime),
	}
	if withSecret {
		m["secretText"] = p.SecretText
	}
	return m
}

// renderKey is a keyCredential; key only when asked for (Graph hides it in lists).
func renderKey(k KeyCredential, withKey bool) map[string]any {
	m := map[string]any{
		"customKeyIdentifier": k.CustomKeyIdentifier,
		"displayName":         strPtr(k.DisplayName),
		"endDateTime":         graphTime(k.EndDateTime),
		"key":                 nil,
		"keyId":               k.KeyID,
		"startDateTime":       graphTime(k.StartDateTime),
		"type":                k.Type,
		"usage":               k.Usage,
	}
	if len(k.CustomKeyIdentifier) == 0 {
		m["customKeyIdentifier"] = nil
	}
	if withKey {
		m["key"] = k.Key
	}
	return m
}

// renderSP is a servicePrincipal as Graph returns it; app is its application in this tenant
// (nil for first-party apps such as Microsoft Graph).
func renderSP(s *ServicePrincipal, app *Application) map[string]any {
	scopes := make([]any, 0, len(s.OAuth2PermissionScopes))
	for _, p := range s.OAuth2PermissionScopes {
		scopes = append(scopes, map[string]any{
			"adminConsentDescription": "Allows the app to " + p.Value + ".",
			"adminConsentDisplayName": p.Value,
			"id":                      p.ID,
			"isEnabled":               true,
			"type":                    p.Type,
			"userConsentDescription":  "Allows the app to " + p.Value + " on your behalf.",
			"userConsentDisplayName":  p.Value,
			"value":                   p.Value,
		})
	}
	roles := make([]any, 0, len(s.AppRoles))
	for _, r := range s.AppRoles {
		roles = append(roles, map[string]any{
			"allowedMemberTypes": []string{"Application"}, "description": r.Value, "displayName": r.Value,
			"id": r.ID, "isEnabled": true, "origin": "Application", "value": r.Value,
		})
	}
	appName, audience, publisher := any(s.DisplayName), any(nil), any(nil)
	replyURLs := []string{}
	if app != nil {
		appName, audience = app.DisplayName, app.SignInAudience
		replyURLs = list(app.Web.RedirectURIs)
	}
	if s.AppID == GraphAppID {
		publisher, audience = "Microsoft Services", "AzureADMultipleOrgs"
	}
	m := map[string]any{
		"id":                                     s.ID,
		"deletedDateTime":                        graphTimePtr(s.DeletedDateTime),
		"accountEnabled":                         s.AccountEnabled,
		"alternativeNames":                       []any{},
		"appDescription":                         nil,
		"appDisplayName":                         appName,
		"appId":                                  s.AppID,
		"applicationTemplateId":                  nil,
		"appOwnerOrganizationId":                 s.AppOwnerOrganizationID,
		"appRoleAssignmentRequired":              false,
		"createdDateTime":                        graphTime(s.CreatedDateTime),
		"description":                            nil,
		"disabledByMicrosoftStatus":              nil,
		"displayName":                            s.DisplayName,
		"homepage":                               nil,
		"loginUrl":                               nil,
		"logoutUrl":                              nil,
		"notes":                                  nil,
		"notificationEmailAddresses":             []any{},
		"preferredSingleSignOnMode":              nil,
		"preferredTokenSigningKeyThumbprint":     nil,
		"publisherName":                          publisher,
		"replyUrls":                              replyURLs,
		"samlSingleSignOnSettings":               nil,
		"servicePrincipalNames":                  list(s.ServicePrincipalNames),
		"servicePrincipalType":                   s.ServicePrincipalType,
		"signInAudience":                         audience,
		"tags":                                   list(s.Tags),
		"tokenEncryptionKeyId":                   nil,
		"addIns":                                 []any{},
		"appRoles":                               roles,
		"info":                                   emptyInfo,
		"keyCredentials":                         []any{},
		"oauth2PermissionScopes":                 scopes,
		"passwordCredentials":                    []any{},
		"resourceSpecificApplicationPermissions": []any{},
		"verifiedPublisher":                      map[string]any{"displayName": nil, "verifiedPublisherId": nil, "addedDateTime": nil},
	}
	for k, v := range s.Extra {
		m[k] = v
	}
	return generic(m)
}

// renderGrant is an oauth2PermissionGrant.
func renderGrant(gr *Grant) map[string]any {
	return generic(map[string]any{
		"clientId":    gr.ClientID,
		"consentType": gr.ConsentType,
		"id":          gr.ID,
		"principalId": strPtr(gr.PrincipalID),
		"resourceId":  gr.ResourceID,
		"scope":       gr.Scope,
	})
}

// renderOrg is the tenant's organization object.
func renderOrg(t *Tenant) map[string]any {
	return generic(map[string]any{
		"id":                   t.ID,
		"deletedDateTime":      nil,
		"businessPhones":       []any{},
		"city":                 nil,
		"country":              nil,
		"countryLetterCode":    "US",
		"createdDateTime":      nil,
		"defaultUsageLocation": nil,
		"displayName":          t.DisplayName,
		"isMultipleDataLocationsForServicesEnabled": nil,
		"marketingNotificationEmails":               []any{},
		"onPremisesLastSyncDateTime":                nil,
		"onPremisesSyncEnabled":                     nil,
		"partnerTenantType":                         nil,
		"postalCode":                                nil,
		"preferredLanguage":                         "en",
		"securityComplianceNotificationMails":       []any{},
		"securityComplianceNotificationPhones":      []any{},
		"state":                                     nil,
		"street":                                    nil,
		"technicalNotificationMails":                []any{},
		"tenantType":                                graphTenantType(t.Type),
		"directorySizeQuota":                        map[string]any{"used": len(t.Applications) + len(t.ServicePrincipals) + len(t.Users), "total": 50000},
		"assignedPlans":                             []any{},
		"privacyProfile":                            nil,
		"provisionedPlans":                          []any{},
		"verifiedDomains": []any{map[string]any{
			"capabilities": "Email, OfficeCommunicationsOnline",
			"isDefault":    true,
			"isInitial":    true,
			"name":         t.Domain,
			"type":         "Managed",
		}},
	})
}

// renderUser is a user with Graph's default property set.
func renderUser(u *User) map[string]any {
	mail := any(nil)
	if u.Mail != "" {
		mail = u.Mail
	}
	opt := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return generic(map[string]any{
		"id":                u.ID,
		"businessPhones":    []any{},
		"displayName":       u.DisplayName,
		"givenName":         opt(u.GivenName),
		"jobTitle":          nil,
		"mail":              mail,
		"mobilePhone":       nil,
		"officeLocation":    nil,
		"preferredLanguage": nil,
		"surname":           opt(u.Surname),
		"userPrincipalName": u.UserPrincipalName,
	})
}

// renderFlow is an externalUsersSelfServiceSignUpEventsFlow. The event handlers a client set
// at creation are kept verbatim (Extra); otherwise the portal's defaults are shown.
func renderFlow(f *UserFlow, metadata string) map[string]any {
	attrs := make([]any, 0, len(f.Attributes))
	for _, a := range f.Attributes {
		attrs = append(attrs, map[string]any{
			"id": a, "displayName": builtinAttributeName(a), "description": builtinAttributeName(a) + " of the user",
			"userFlowAttributeType": "builtIn", "dataType": "string",
		})
	}
	apps := make([]any, 0, len(f.AppIDs))
	for _, a := range f.AppIDs {
		apps = append(apps, map[string]any{"appId": a})
	}
	m := map[string]any{
		"@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow",
		"id":          f.ID,
		"displayName": f.DisplayName,
		"description": strPtr(f.Description),
		"priority":    500,
		"conditions": map[string]any{"applications": map[string]any{
			"includeAllApplications":            false,
			"includeApplications@odata.context": metadata + "identity/authenticationEventsFlows('" + f.ID + "')/conditions/applications/includeApplications",
			"includeApplications":               apps,
		}},
		"onInteractiveAuthFlowStart": map[string]any{
			"@odata.type":     "#microsoft.graph.onInteractiveAuthFlowStartExternalUsersSelfServiceSignUp",
			"isSignUpAllowed": true,
		},
		"onAuthenticationMethodLoadStart": map[string]any{
			"@odata.type":       "#microsoft.graph.onAuthenticationMethodLoadStartExternalUsersSelfServiceSignUp",
			"identityProviders": []any{map[string]any{"id": "EmailPassword-OAUTH", "displayName": "Email with password"}},
		},
		"onAttributeCollection": map[string]any{
			"@odata.type": "#microsoft.graph.onAttributeCollectionExternalUsersSelfServiceSignUp",
			"attributes":  attrs,
		},
		"onUserCreateStart": map[string]any{
			"@odata.type":      "#microsoft.graph.onUserCreateStartExternalUsersSelfServiceSignUp",
			"userTypeToCreate": "member",
		},
	}
	if len(f.Extra) > 0 {
		var extra map[string]json.RawMessage
		if json.Unmarshal(f.Extra, &extra) == nil {
			for k, v := range extra {
				if strings.HasPrefix(k, "on") {
					m[k] = v
				}
			}
		}
	}
	return generic(m)
}

func builtinAttributeName(id string) string {
	switch id {
	case "email":
		return "Email Address"
	case "displayName":
		return "Display Name"
	case "givenName":
		return "Given Name"
	case "surname":
		return "Surname"
	}
	return id
}

// templates: rendered empty objects, the property lists $select and $filter check against.
var (
	appTemplate   = renderApp(&Application{}, false)
	spTemplate    = renderSP(&ServicePrincipal{}, nil)
	grantTemplate = renderGrant(&Grant{})
	userTemplate  = renderUser(&User{})
	orgTemplate   = renderOrg(&Tenant{})
	flowTemplate  = renderFlow(&UserFlow{}, "")
)
