package graph

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationswithuniquename"
	"github.com/microsoftgraph/msgraph-sdk-go/directory"
	"github.com/microsoftgraph/msgraph-sdk-go/identity"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/oauth2permissiongrants"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipalswithappid"
)

// appSelect are the application properties provision reads. keyCredentials only withKeys: it
// brings each key's bytes (needed to keep a certificate when the collection is replaced), and
// Graph limits reads that select it to 150 a minute per tenant (the v1.0 list-applications
// doc), so the tool asks for it only when a certificate is involved.
func appSelect(withKeys bool) []string {
	sel := []string{"id", "appId", "uniqueName", "displayName", "signInAudience", "notes", "tags", "web", "spa", "publicClient",
		"requiredResourceAccess", "passwordCredentials", "createdDateTime", "deletedDateTime"}
	if withKeys {
		sel = append(sel, "keyCredentials")
	}
	return sel
}

func preferCreate() *abs.RequestHeaders {
	h := abs.NewRequestHeaders()
	h.Add("Prefer", "create-if-missing")
	return h
}

// ---- organization ----

// Organization reads the signed-in tenant's organization object.
func (c *Client) Organization(ctx context.Context) (Organization, error) {
	var out Organization
	err := c.call(ctx, "read the tenant's organization", false, func(ctx context.Context) error {
		res, err := organization.NewOrganizationRequestBuilderInternal(c.pathParams(), c.adapter).Get(ctx, nil)
		if err != nil {
			return err
		}
		vals := res.GetValue()
		if len(vals) == 0 {
			return fmt.Errorf("graph: /organization returned no tenant")
		}
		o := vals[0]
		out = Organization{ID: deref(o.GetId()), DisplayName: deref(o.GetDisplayName()), TenantType: deref(o.GetTenantType())}
		for _, d := range o.GetVerifiedDomains() {
			out.Domains = append(out.Domains, Domain{Name: deref(d.GetName()), IsInitial: deref(d.GetIsInitial()), IsDefault: deref(d.GetIsDefault())})
		}
		return nil
	})
	return out, err
}

// ---- applications ----

func (c *Client) byUniqueName(name string) *applicationswithuniquename.ApplicationsWithUniqueNameRequestBuilder {
	return applicationswithuniquename.NewApplicationsWithUniqueNameRequestBuilderInternal(c.pathParams(), c.adapter, &name)
}

// AppByUniqueName reads an application by its uniqueName; nil when there is none. With
// justWritten, a 404 is taken for replication lag and retried (the app was just upserted).
// withKeys also reads keyCredentials with their bytes (see appSelect): only when a certificate
// is involved.
func (c *Client) AppByUniqueName(ctx context.Context, uniqueName string, justWritten, withKeys bool) (*Application, error) {
	var out *Application
	err := c.call(ctx, "read the app registration "+uniqueName, justWritten, func(ctx context.Context) error {
		m, err := c.byUniqueName(uniqueName).Get(ctx, &applicationswithuniquename.ApplicationsWithUniqueNameRequestBuilderGetRequestConfiguration{
			QueryParameters: &applicationswithuniquename.ApplicationsWithUniqueNameRequestBuilderGetQueryParameters{Select: appSelect(withKeys)},
		})
		out = fromApp(m)
		return err
	})
	if err != nil && !justWritten && IsNotFound(err) {
		return nil, nil
	}
	return out, err
}

// UpsertApplication creates or updates the application with this uniqueName in one request
// (PATCH /applications(uniqueName=...) with Prefer: create-if-missing), so a retry after a lost
// answer can never make a second app. created is true when Graph answered 201. On 204 Graph
// sends no body, so the app is read back by the same key.
func (c *Client) UpsertApplication(ctx context.Context, uniqueName string, w AppWrite) (app *Application, created bool, err error) {
	var m models.Applicationable
	err = c.call(ctx, "create or update the app registration", false, func(ctx context.Context) error {
		var err error
		m, err = c.byUniqueName(uniqueName).Patch(ctx, toAppModel(w), &applicationswithuniquename.ApplicationsWithUniqueNameRequestBuilderPatchRequestConfiguration{Headers: preferCreate()})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if m != nil {
		return fromApp(m), true, nil
	}
	app, err = c.AppByUniqueName(ctx, uniqueName, true, w.SetKeys)
	return app, false, err
}

// AddPassword adds a client secret to the application (by object id) valid until end. Graph
// returns the text only in this answer. Not found is replication lag here: the app was just made.
func (c *Client) AddPassword(ctx context.Context, appObjectID, displayName string, end time.Time) (PasswordCredential, Secret, error) {
	var pc PasswordCredential
	var secret Secret
	defer c.creds.lock(appObjectID)()
	err := c.call(ctx, "add a client secret", true, func(ctx context.Context) error {
		body := applications.NewItemAddPasswordPostRequestBody()
		p := models.NewPasswordCredential()
		p.SetDisplayName(str(displayName))
		e := end.UTC()
		p.SetEndDateTime(&e)
		body.SetPasswordCredential(p)
		res, err := applications.NewApplicationsRequestBuilderInternal(c.pathParams(), c.adapter).ByApplicationId(appObjectID).AddPassword().Post(ctx, body, nil)
		if err != nil {
			return err
		}
		if res == nil || res.GetSecretText() == nil {
			return fmt.Errorf("graph: addPassword answered without a secret")
		}
		pc = fromPassword(res)
		secret = Secret(*res.GetSecretText())
		return nil
	})
	return pc, secret, err
}

// RemovePassword removes a client secret by keyId. A secret already gone counts as removed.
func (c *Client) RemovePassword(ctx context.Context, appObjectID, keyID string) error {
	u, err := uuid.Parse(keyID)
	if err != nil {
		return fmt.Errorf("graph: secret key id %q: %w", keyID, err)
	}
	defer c.creds.lock(appObjectID)()
	return c.callGone(ctx, "remove an old client secret", false, func(ctx context.Context) error {
		body := applications.NewItemRemovePasswordPostRequestBody()
		body.SetKeyId(&u)
		return applications.NewApplicationsRequestBuilderInternal(c.pathParams(), c.adapter).ByApplicationId(appObjectID).RemovePassword().Post(ctx, body, nil)
	})
}

// ListApplications lists applications matching an OData filter (e.g. a tag), every page.
func (c *Client) ListApplications(ctx context.Context, f AppFilter) ([]Application, error) {
	filter, err := f.odata()
	if err != nil {
		return nil, err
	}
	top := int32(999)
	return allPages(ctx, c, "list app registrations",
		func(ctx context.Context) (models.ApplicationCollectionResponseable, error) {
			return applications.NewApplicationsRequestBuilderInternal(c.pathParams(), c.adapter).Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
				QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{Filter: str(filter), Top: &top, Select: appSelect(f.WithKeys)},
			})
		},
		func(ctx context.Context, next string) (models.ApplicationCollectionResponseable, error) {
			return applications.NewApplicationsRequestBuilder(next, c.adapter).Get(ctx, nil)
		},
		func(m models.Applicationable) Application { return *fromApp(m) })
}

// DeleteApplication soft-deletes an application (it and its service principal go to deleted
// items for 30 days). An app already gone counts as deleted.
func (c *Client) DeleteApplication(ctx context.Context, objectID string) error {
	return c.callGone(ctx, "delete the app registration", false, func(ctx context.Context) error {
		return applications.NewApplicationsRequestBuilderInternal(c.pathParams(), c.adapter).ByApplicationId(objectID).Delete(ctx, nil)
	})
}

// DeletedApplications lists soft-deleted applications, every page.
func (c *Client) DeletedApplications(ctx context.Context) ([]Application, error) {
	top := int32(999)
	return allPages(ctx, c, "list deleted app registrations",
		func(ctx context.Context) (models.ApplicationCollectionResponseable, error) {
			return directory.NewDirectoryRequestBuilderInternal(c.pathParams(), c.adapter).DeletedItems().GraphApplication().Get(ctx,
				&directory.DeletedItemsGraphApplicationRequestBuilderGetRequestConfiguration{
					QueryParameters: &directory.DeletedItemsGraphApplicationRequestBuilderGetQueryParameters{Top: &top},
				})
		},
		func(ctx context.Context, next string) (models.ApplicationCollectionResponseable, error) {
			return directory.NewDeletedItemsGraphApplicationRequestBuilder(next, c.adapter).Get(ctx, nil)
		},
		func(m models.Applicationable) Application { return *fromApp(m) })
}

// PurgeDeleted permanently deletes a soft-deleted object. One already purged counts as done.
func (c *Client) PurgeDeleted(ctx context.Context, objectID string) error {
	return c.callGone(ctx, "purge the app registration from deleted items", true, func(ctx context.Context) error {
		return directory.NewDirectoryRequestBuilderInternal(c.pathParams(), c.adapter).DeletedItems().ByDirectoryObjectId(objectID).Delete(ctx, nil)
	})
}

// ---- service principals ----

func spSelect() []string {
	return []string{"id", "appId", "displayName", "tags", "oauth2PermissionScopes"}
}

// ServicePrincipal reads the service principal of an appId; nil when there is none.
func (c *Client) ServicePrincipal(ctx context.Context, appID string) (*ServicePrincipal, error) {
	var out *ServicePrincipal
	err := c.call(ctx, "read the service principal", false, func(ctx context.Context) error {
		m, err := serviceprincipalswithappid.NewServicePrincipalsWithAppIdRequestBuilderInternal(c.pathParams(), c.adapter, &appID).Get(ctx,
			&serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderGetRequestConfiguration{
				QueryParameters: &serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderGetQueryParameters{Select: spSelect()},
			})
		out = fromSP(m)
		return err
	})
	if IsNotFound(err) {
		return nil, nil
	}
	return out, err
}

// UpsertServicePrincipal creates the app's service principal, or updates its display name and
// tags, by appId (PATCH /servicePrincipals(appId=...) with Prefer: create-if-missing), sending
// the displayName the v1.0 reference's example sends, plus the tags. Right after the app is
// created Graph may answer 400 NoBackingApplicationObject: replication lag, retried.
func (c *Client) UpsertServicePrincipal(ctx context.Context, appID, displayName string, tags []string) (*ServicePrincipal, bool, error) {
	var m models.ServicePrincipalable
	b := serviceprincipalswithappid.NewServicePrincipalsWithAppIdRequestBuilderInternal(c.pathParams(), c.adapter, &appID)
	err := c.call(ctx, "create the service principal", true, func(ctx context.Context) error {
		body := models.NewServicePrincipal()
		if displayName != "" {
			body.SetDisplayName(&displayName)
		}
		body.SetTags(append([]string{}, tags...))
		var err error
		m, err = b.Patch(ctx, body, &serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderPatchRequestConfiguration{Headers: preferCreate()})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if m != nil {
		return fromSP(m), true, nil
	}
	var sp *ServicePrincipal
	err = c.call(ctx, "read the service principal", true, func(ctx context.Context) error {
		m, err := b.Get(ctx, &serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderGetQueryParameters{Select: spSelect()},
		})
		sp = fromSP(m)
		return err
	})
	return sp, false, err
}

// CreateServicePrincipal is POST /servicePrincipals {appId}: the form every tenant accepts, for
// callers that cannot use the upsert.
func (c *Client) CreateServicePrincipal(ctx context.Context, appID string) (*ServicePrincipal, error) {
	var out *ServicePrincipal
	err := c.call(ctx, "create the service principal", true, func(ctx context.Context) error {
		body := models.NewServicePrincipal()
		body.SetAppId(&appID)
		m, err := serviceprincipals.NewServicePrincipalsRequestBuilderInternal(c.pathParams(), c.adapter).Post(ctx, body, nil)
		out = fromSP(m)
		return err
	})
	return out, err
}

// ---- consent ----

// Grants lists the delegated permission grants whose client is the service principal clientID.
func (c *Client) Grants(ctx context.Context, clientID string) ([]Grant, error) {
	var out []Grant
	err := c.call(ctx, "read the consent grants", false, func(ctx context.Context) (err error) {
		out, err = c.grantsOnce(ctx, clientID)
		return err
	})
	return out, err
}

func (c *Client) grantsOnce(ctx context.Context, clientID string) ([]Grant, error) {
	f := "clientId eq '" + odataQuote(clientID) + "'"
	res, err := oauth2permissiongrants.NewOauth2PermissionGrantsRequestBuilderInternal(c.pathParams(), c.adapter).Get(ctx,
		&oauth2permissiongrants.Oauth2PermissionGrantsRequestBuilderGetRequestConfiguration{
			QueryParameters: &oauth2permissiongrants.Oauth2PermissionGrantsRequestBuilderGetQueryParameters{Filter: &f},
		})
	if err != nil {
		return nil, err
	}
	var out []Grant
	for _, g := range res.GetValue() {
		out = append(out, *fromGrant(g))
	}
	return out, nil
}

// EnsureGrant makes sure the tenant-wide (AllPrincipals) grant from clientID to resourceID
// holds exactly scope: POST it; when Graph says it exists ("Permission entry already exists.",
// 400 today, 409 in older tenants, and also what a retry after a lost answer meets), find it and
// PATCH its scope if it differs. A just-made client service principal may be invisible for a
// while (404 or 400 naming it), and so may a just-made grant that already blocks a duplicate:
// both are retried as replication lag.
func (c *Client) EnsureGrant(ctx context.Context, clientID, resourceID, scope string) (*Grant, error) {
	var out *Grant
	err := c.call(ctx, "grant admin consent", true, func(ctx context.Context) error {
		g := models.NewOAuth2PermissionGrant()
		g.SetClientId(&clientID)
		g.SetResourceId(&resourceID)
		ct := AllPrincipals
		g.SetConsentType(&ct)
		g.SetScope(&scope)
		m, err := oauth2permissiongrants.NewOauth2PermissionGrantsRequestBuilderInternal(c.pathParams(), c.adapter).Post(ctx, g, nil)
		out = fromGrant(m)
		return err
	})
	if err == nil || !isDuplicateGrant(err) {
		return out, err
	}
	var existing *Grant
	ferr := c.call(ctx, "find the existing admin consent", true, func(ctx context.Context) error {
		grants, err := c.grantsOnce(ctx, clientID)
		if err != nil {
			return err
		}
		for _, g := range grants {
			if g.ResourceID == resourceID && g.ConsentType == AllPrincipals {
				existing = &g
				return nil
			}
		}
		// Graph refused the duplicate, so the grant exists: not visible here yet.
		return &Error{Op: "find the existing admin consent", Status: 404, Code: "Request_ResourceNotFound", Message: "the existing grant is not visible yet"}
	})
	if ferr != nil {
		return nil, ferr
	}
	if existing.Scope == scope {
		return existing, nil
	}
	return c.UpdateGrantScope(ctx, *existing, scope)
}

// UpdateGrantScope sets a grant's scope.
func (c *Client) UpdateGrantScope(ctx context.Context, g Grant, scope string) (*Grant, error) {
	err := c.call(ctx, "update the admin consent", true, func(ctx context.Context) error {
		body := models.NewOAuth2PermissionGrant()
		body.SetScope(&scope)
		_, err := oauth2permissiongrants.NewOauth2PermissionGrantsRequestBuilderInternal(c.pathParams(), c.adapter).ByOAuth2PermissionGrantId(g.ID).Patch(ctx, body, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	g.Scope = scope
	return &g, nil
}

func isDuplicateGrant(err error) bool {
	ge, ok := AsError(err)
	if !ok {
		return false
	}
	return (ge.Status == 400 || ge.Status == 409) && (strings.Contains(ge.Message, "already exists") || ge.Code == "Request_MultipleObjectsWithSameKeyValue")
}

// ---- External ID user flows ----

func (c *Client) flows() *identity.AuthenticationEventsFlowsRequestBuilder {
	return identity.NewIdentityRequestBuilderInternal(c.pathParams(), c.adapter).AuthenticationEventsFlows()
}

// UserFlows lists the tenant's sign-up/sign-in user flows, every page.
func (c *Client) UserFlows(ctx context.Context) ([]UserFlow, error) {
	return allPages(ctx, c, "list the user flows",
		func(ctx context.Context) (models.AuthenticationEventsFlowCollectionResponseable, error) {
			return c.flows().Get(ctx, nil)
		},
		func(ctx context.Context, next string) (models.AuthenticationEventsFlowCollectionResponseable, error) {
			return identity.NewAuthenticationEventsFlowsRequestBuilder(next, c.adapter).Get(ctx, nil)
		},
		func(f models.AuthenticationEventsFlowable) UserFlow {
			return UserFlow{ID: deref(f.GetId()), DisplayName: deref(f.GetDisplayName()), Description: deref(f.GetDescription())}
		})
}

// FlowApps lists the appIds linked to a user flow, every page (a workshop links one app per
// attendee to the same flow).
func (c *Client) FlowApps(ctx context.Context, flowID string) ([]string, error) {
	return allPages(ctx, c, "read the user flow's applications",
		func(ctx context.Context) (models.AuthenticationConditionApplicationCollectionResponseable, error) {
			return c.flows().ByAuthenticationEventsFlowId(flowID).Conditions().Applications().IncludeApplications().Get(ctx, nil)
		},
		func(ctx context.Context, next string) (models.AuthenticationConditionApplicationCollectionResponseable, error) {
			return identity.NewAuthenticationEventsFlowsItemConditionsApplicationsIncludeApplicationsRequestBuilder(next, c.adapter).Get(ctx, nil)
		},
		func(a models.AuthenticationConditionApplicationable) string { return deref(a.GetAppId()) })
}

// LinkUserFlow adds the app to a user flow. The app's service principal must exist; just made,
// it may not be visible yet (retried). When Graph refuses because the link exists (a retry after
// a lost answer), the flow's list is read to confirm.
func (c *Client) LinkUserFlow(ctx context.Context, flowID, appID string) error {
	err := c.call(ctx, "link the app to the user flow", true, func(ctx context.Context) error {
		body := models.NewAuthenticationConditionApplication()
		body.SetAppId(&appID)
		_, err := c.flows().ByAuthenticationEventsFlowId(flowID).Conditions().Applications().IncludeApplications().Post(ctx, body, nil)
		return err
	})
	if ge, ok := AsError(err); ok && (ge.Status == 400 || ge.Status == 409) {
		if apps, lerr := c.FlowApps(ctx, flowID); lerr == nil {
			for _, a := range apps {
				if strings.EqualFold(a, appID) {
					return nil
				}
			}
		}
	}
	return err
}

// attributeCollection is the onAttributeCollection of the v1.0 reference's example ("Create
// authenticationEventsFlow", example 1): the email and display name built-in attributes, and
// the attribute collection page (required, says the onAttributeCollectionExternalUsersSelfServiceSignUp
// resource) with its two inputs: email hidden and required, display name shown and editable.
func attributeCollection() models.OnAttributeCollectionExternalUsersSelfServiceSignUpable {
	coll := models.NewOnAttributeCollectionExternalUsersSelfServiceSignUp()
	builtIn, stringType := models.BUILTIN_IDENTITYUSERFLOWATTRIBUTETYPE, models.STRING_IDENTITYUSERFLOWATTRIBUTEDATATYPE
	var attrs []models.IdentityUserFlowAttributeable
	var inputs []models.AuthenticationAttributeCollectionInputConfigurationable
	text := models.TEXT_AUTHENTICATIONATTRIBUTECOLLECTIONINPUTTYPE
	for _, x := range []struct {
		id, name, description, label, regex string
		hidden, editable, required          bool
	}{
		{"email", "Email Address", "Email address of the user", "Email Address", "^[a-zA-Z0-9.!#$%&’'*+/=?^_`{|}~-]+@[a-zA-Z0-9-]+(?:.[a-zA-Z0-9-]+)*$", true, false, true},
		{"displayName", "Display Name", "Display Name of the User.", "Display Name", "^[a-zA-Z_][0-9a-zA-Z_ ]*[0-9a-zA-Z_]+$", false, true, false},
	} {
		a := models.NewIdentityBuiltInUserFlowAttribute()
		a.SetId(&x.id)
		a.SetDisplayName(&x.name)
		a.SetDescription(&x.description)
		a.SetUserFlowAttributeType(&builtIn)
		a.SetDataType(&stringType)
		attrs = append(attrs, a)
		in := models.NewAuthenticationAttributeCollectionInputConfiguration()
		in.SetAttribute(&x.id)
		in.SetLabel(&x.label)
		in.SetInputType(&text)
		in.SetHidden(&x.hidden)
		in.SetEditable(&x.editable)
		yes := true
		in.SetWriteToDirectory(&yes)
		in.SetRequired(&x.required)
		in.SetValidationRegEx(&x.regex)
		inputs = append(inputs, in)
	}
	coll.SetAttributes(attrs)
	view := models.NewAuthenticationAttributeCollectionPageViewConfiguration()
	view.SetInputs(inputs)
	page := models.NewAuthenticationAttributeCollectionPage()
	page.SetViews([]models.AuthenticationAttributeCollectionPageViewConfigurationable{view})
	coll.SetAttributeCollectionPage(page)
	return coll
}

// CreateUserFlow creates a sign-up/sign-in user flow with email and password that collects the
// display name (what the External ID quickstarts ask for), with the body the v1.0 reference's
// example sends.
func (c *Client) CreateUserFlow(ctx context.Context, displayName string) (UserFlow, error) {
	var out UserFlow
	err := c.call(ctx, "create a user flow", false, func(ctx context.Context) error {
		f := models.NewExternalUsersSelfServiceSignUpEventsFlow()
		f.SetDisplayName(&displayName)
		start := models.NewOnInteractiveAuthFlowStartExternalUsersSelfServiceSignUp()
		yes := true
		start.SetIsSignUpAllowed(&yes)
		f.SetOnInteractiveAuthFlowStart(start)
		load := models.NewOnAuthenticationMethodLoadStartExternalUsersSelfServiceSignUp()
		idp := models.NewBuiltInIdentityProvider()
		idpID := "EmailPassword-OAUTH"
		idp.SetId(&idpID)
		load.SetIdentityProviders([]models.IdentityProviderBaseable{idp})
		f.SetOnAuthenticationMethodLoadStart(load)
		f.SetOnAttributeCollection(attributeCollection())
		m, err := c.flows().Post(ctx, f, nil)
		if err != nil {
			return err
		}
		out = UserFlow{ID: deref(m.GetId()), DisplayName: deref(m.GetDisplayName()), Description: deref(m.GetDescription())}
		return nil
	})
	return out, err
}

// odataQuote doubles single quotes for an OData string literal.
func odataQuote(s string) string { return strings.ReplaceAll(s, "'", "''") }

// AppFilter selects app registrations by a tag or by appId. Its values are written into the
// OData $filter here and only here, quoted, so that a value read from a file or a roster can
// never add a clause (CLIENT_ID=x' or displayName eq 'y).
type AppFilter struct {
	Tag   string // tags/any(t:t eq '<Tag>')
	AppID string // appId eq '<AppID>'; must be a GUID
	// WithKeys also reads keyCredentials (see appSelect); Graph limits such reads to 150 a
	// minute per tenant.
	WithKeys bool
}

func (f AppFilter) odata() (string, error) {
	switch {
	case f.Tag != "" && f.AppID != "":
		return "", fmt.Errorf("graph: filter by a tag or by an appId, not both")
	case f.AppID != "":
		if _, err := uuid.Parse(f.AppID); err != nil || len(f.AppID) != 36 {
			return "", fmt.Errorf("graph: the client id %q is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx): check the sample's configuration", f.AppID)
		}
		return "appId eq '" + odataQuote(f.AppID) + "'", nil
	case f.Tag != "":
		return "tags/any(t:t eq '" + odataQuote(f.Tag) + "')", nil
	}
	return "", nil
}

// UnlinkUserFlow removes the app from a user flow (an app can be in only one). Already gone
// counts as removed.
func (c *Client) UnlinkUserFlow(ctx context.Context, flowID, appID string) error {
	return c.callGone(ctx, "unlink the app from its previous user flow", false, func(ctx context.Context) error {
		return c.flows().ByAuthenticationEventsFlowId(flowID).Conditions().Applications().IncludeApplications().ByAuthenticationConditionApplicationAppId(appID).Delete(ctx, nil)
	})
}

// DeletedServicePrincipals lists soft-deleted service principals (appId and id), every page.
func (c *Client) DeletedServicePrincipals(ctx context.Context) ([]ServicePrincipal, error) {
	top := int32(999)
	return allPages(ctx, c, "list deleted service principals",
		func(ctx context.Context) (models.ServicePrincipalCollectionResponseable, error) {
			return directory.NewDirectoryRequestBuilderInternal(c.pathParams(), c.adapter).DeletedItems().GraphServicePrincipal().Get(ctx,
				&directory.DeletedItemsGraphServicePrincipalRequestBuilderGetRequestConfiguration{
					QueryParameters: &directory.DeletedItemsGraphServicePrincipalRequestBuilderGetQueryParameters{Top: &top},
				})
		},
		func(ctx context.Context, next string) (models.ServicePrincipalCollectionResponseable, error) {
			return directory.NewDeletedItemsGraphServicePrincipalRequestBuilder(next, c.adapter).Get(ctx, nil)
		},
		func(m models.ServicePrincipalable) ServicePrincipal { return *fromSP(m) })
}

// collection is what every Graph collection response has: its items and the link to the next page.
type collection[M any] interface {
	GetValue() []M
	GetOdataNextLink() *string
}

// allPages gets the first page and follows every nextLink, each call under the client's
// retries, converting the items as it goes.
func allPages[P collection[M], M, T any](ctx context.Context, c *Client, op string,
	first func(context.Context) (P, error), next func(context.Context, string) (P, error), conv func(M) T) ([]T, error) {
	var out []T
	var page P
	err := c.call(ctx, op, false, func(ctx context.Context) error {
		var err error
		page, err = first(ctx)
		return err
	})
	for err == nil && any(page) != nil {
		for _, m := range page.GetValue() {
			out = append(out, conv(m))
		}
		link := deref(page.GetOdataNextLink())
		if link == "" {
			break
		}
		err = c.call(ctx, op+" (next page)", false, func(ctx context.Context) error {
			var err error
			page, err = next(ctx, link)
			return err
		})
	}
	return out, err
}
