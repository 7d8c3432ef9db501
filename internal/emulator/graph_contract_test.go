package emulator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"
	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	core "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationswithuniquename"
	"github.com/microsoftgraph/msgraph-sdk-go/directory"
	"github.com/microsoftgraph/msgraph-sdk-go/identity"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/oauth2permissiongrants"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipalswithappid"
)

// The Graph contract: msgraph-sdk-go's own sub-packages (never the root package), with the
// kiota adapter and Graph middleware the product uses, talk to the emulator under the real
// host name graph.microsoft.com. Whatever the SDK can parse and the product relies on is
// checked here.

// staticCred hands out one token, minted in-package with the emulator's keys.
type staticCred struct{ token string }

func (s staticCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: s.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// sdkAdapter is the recipe of facts/graph.md §11 and facts/testing.md §1: valid hosts without a
// port, Graph's middleware (gzip, retry, telemetry) over the emulator's transport.
func sdkAdapter(t testing.TB, e *Emulator, cred azcore.TokenCredential) abs.RequestAdapter {
	t.Helper()
	abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory { return jsonser.NewJsonSerializationWriterFactory() })
	abs.RegisterDefaultDeserializer(func() absser.ParseNodeFactory { return jsonser.NewJsonParseNodeFactory() })
	ap, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{"https://graph.microsoft.com/.default"}, []string{"graph.microsoft.com"})
	if err != nil {
		t.Fatal(err)
	}
	opts := core.GraphClientOptions{GraphServiceVersion: "v1.0", GraphServiceLibraryVersion: "1.89.0"}
	hc := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(e.Transport(), core.GetDefaultMiddlewaresWithOptions(&opts)...), Timeout: 60 * time.Second}
	ad, err := core.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(ap, opts, nil, nil, hc)
	if err != nil {
		t.Fatal(err)
	}
	ad.SetBaseUrl("https://graph.microsoft.com/v1.0")
	return ad
}

func base(ad abs.RequestAdapter) map[string]string {
	return map[string]string{"baseurl": ad.GetBaseUrl()}
}

// odataErr unwraps the SDK's error and checks it carries Graph's envelope.
func odataErr(t testing.TB, err error, status int, code string) *odataerrors.ODataError {
	t.Helper()
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("want an *odataerrors.ODataError %d %s, got %T %v", status, code, err, err)
	}
	main := oe.GetErrorEscaped()
	if oe.ResponseStatusCode != status || main == nil || deref(main.GetCode()) != code {
		t.Fatalf("got %d %s %q, want %d %s", oe.ResponseStatusCode, deref(main.GetCode()), deref(main.GetMessage()), status, code)
	}
	if in := main.GetInnerError(); in == nil || deref(in.GetRequestId()) == "" || deref(in.GetClientRequestId()) == "" || in.GetDate() == nil {
		t.Fatalf("innerError without request-id, client-request-id or date: %v", in)
	}
	if err.Error() != deref(main.GetMessage()) {
		t.Fatalf("err.Error() %q != message %q", err.Error(), deref(main.GetMessage()))
	}
	return oe
}

func ptr[T any](v T) *T { return &v }

func mustUUID(t testing.TB, s string) uuid.UUID {
	t.Helper()
	u, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestGraphContractWithSDK(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	ctx := context.Background()
	ad := sdkAdapter(t, g.e, staticCred{g.token})
	prefer := abs.NewRequestHeaders()
	prefer.Add("Prefer", "create-if-missing")

	// Upsert: 201 with the app, then 204 (the SDK returns nil), then a GET by the same key.
	un := "node-workforce-ada"
	byName := applicationswithuniquename.NewApplicationsWithUniqueNameRequestBuilderInternal(base(ad), ad, &un)
	body := models.NewApplication()
	body.SetDisplayName(ptr("Node sample (ada)"))
	body.SetSignInAudience(ptr("AzureADMyOrg"))
	body.SetTags([]string{"entra-quickstart", "sample:node-workforce"})
	web := models.NewWebApplication()
	web.SetRedirectUris([]string{"http://localhost:3000/auth/redirect"})
	web.SetLogoutUrl(ptr("https://localhost:3000/logout"))
	ig := models.NewImplicitGrantSettings()
	ig.SetEnableIdTokenIssuance(ptr(false))
	web.SetImplicitGrantSettings(ig)
	body.SetWeb(web)
	rra := models.NewRequiredResourceAccess()
	rra.SetResourceAppId(ptr(GraphAppID))
	ra := models.NewResourceAccess()
	ra.SetId(ptr(mustUUID(t, "e1fe6dd8-ba31-4d61-89e7-88639da4683d")))
	ra.SetTypeEscaped(ptr("Scope"))
	rra.SetResourceAccess([]models.ResourceAccessable{ra})
	body.SetRequiredResourceAccess([]models.RequiredResourceAccessable{rra})
	cfg := &applicationswithuniquename.ApplicationsWithUniqueNameRequestBuilderPatchRequestConfiguration{Headers: prefer}
	created, err := byName.Patch(ctx, body, cfg)
	if err != nil || created == nil {
		t.Fatalf("upsert create: %v %v", created, err)
	}
	if deref(created.GetUniqueName()) != un || deref(created.GetAppId()) == "" || deref(created.GetPublisherDomain()) != g.tenant.Domain || created.GetCreatedDateTime() == nil {
		t.Fatalf("created app: uniqueName %q appId %q", deref(created.GetUniqueName()), deref(created.GetAppId()))
	}
	again, err := byName.Patch(ctx, body, cfg)
	if err != nil || again != nil {
		t.Fatalf("upsert update: want nil, nil (204), got %v %v", again, err)
	}
	app, err := byName.Get(ctx, nil)
	if err != nil || deref(app.GetId()) != deref(created.GetId()) {
		t.Fatalf("GET by uniqueName: %v", err)
	}
	if uris := app.GetWeb().GetRedirectUris(); len(uris) != 1 || deref(app.GetWeb().GetLogoutUrl()) != "https://localhost:3000/logout" {
		t.Fatalf("web = %v", uris)
	}
	appID, objID := deref(app.GetAppId()), deref(app.GetId())

	// addPassword by object id.
	apps := applications.NewApplicationsRequestBuilderInternal(base(ad), ad)
	pwBody := applications.NewItemAddPasswordPostRequestBody()
	pc := models.NewPasswordCredential()
	pc.SetDisplayName(ptr("entra-quickstart"))
	pc.SetEndDateTime(ptr(time.Now().AddDate(0, 6, 0)))
	pwBody.SetPasswordCredential(pc)
	secret, err := apps.ByApplicationId(objID).AddPassword().Post(ctx, pwBody, nil)
	if err != nil || len(deref(secret.GetSecretText())) != 40 || deref(secret.GetHint()) != deref(secret.GetSecretText())[:3] || secret.GetKeyId() == nil {
		t.Fatalf("addPassword: %v", err)
	}
	// addPassword by appId, through the raw-URL builder.
	if _, err := applications.NewItemAddPasswordRequestBuilder(ad.GetBaseUrl()+"/applications(appId='"+appID+"')/addPassword", ad).Post(ctx, applications.NewItemAddPasswordPostRequestBody(), nil); err != nil {
		t.Fatalf("addPassword by appId: %v", err)
	}

	// Service principal upsert, then the Graph SP, then consent and its duplicate.
	sp, err := serviceprincipalswithappid.NewServicePrincipalsWithAppIdRequestBuilderInternal(base(ad), ad, &appID).Patch(ctx, models.NewServicePrincipal(),
		&serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderPatchRequestConfiguration{Headers: prefer})
	if err != nil || sp == nil || deref(sp.GetAppId()) != appID {
		t.Fatalf("SP upsert: %v", err)
	}
	graphAppID := GraphAppID
	gsp, err := serviceprincipalswithappid.NewServicePrincipalsWithAppIdRequestBuilderInternal(base(ad), ad, &graphAppID).Get(ctx,
		&serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderGetRequestConfiguration{QueryParameters: &serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderGetQueryParameters{Select: []string{"id", "appId", "oauth2PermissionScopes"}}})
	if err != nil || len(gsp.GetOauth2PermissionScopes()) == 0 {
		t.Fatalf("Graph SP: %v", err)
	}
	found := false
	for _, s := range gsp.GetOauth2PermissionScopes() {
		found = found || deref(s.GetValue()) == "User.Read" && s.GetId().String() == "e1fe6dd8-ba31-4d61-89e7-88639da4683d"
	}
	if !found {
		t.Fatalf("Graph SP lacks User.Read with its real id")
	}
	grants := oauth2permissiongrants.NewOauth2PermissionGrantsRequestBuilderInternal(base(ad), ad)
	grant := models.NewOAuth2PermissionGrant()
	grant.SetClientId(sp.GetId())
	grant.SetConsentType(ptr("AllPrincipals"))
	grant.SetResourceId(gsp.GetId())
	grant.SetScope(ptr("openid profile offline_access User.Read"))
	gr, err := grants.Post(ctx, grant, nil)
	if err != nil || len(deref(gr.GetId())) != 43 {
		t.Fatalf("consent: %v", err)
	}
	_, err = grants.Post(ctx, grant, nil)
	if oe := odataErr(t, err, 400, "Request_BadRequest"); err.Error() != "Permission entry already exists." {
		t.Fatalf("duplicate consent: %v", oe)
	}

	// Filters and paging: the page iterator follows @odata.nextLink back to the emulator.
	for _, n := range []string{"a", "b", "c", "d"} {
		a := models.NewApplication()
		a.SetDisplayName(ptr("Paged " + n))
		a.SetTags([]string{"entra-quickstart"})
		if _, err := apps.Post(ctx, a, nil); err != nil {
			t.Fatalf("POST /applications: %v", err)
		}
	}
	eventual := abs.NewRequestHeaders()
	eventual.Add("ConsistencyLevel", "eventual")
	resp, err := apps.Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
		Headers: eventual,
		QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{
			Filter: ptr("tags/any(t:t eq 'entra-quickstart') and startswith(displayName,'Paged')"),
			Select: []string{"id", "appId", "displayName", "tags"},
			Top:    ptr(int32(3)),
			Count:  ptr(true),
		},
	})
	if err != nil || len(resp.GetValue()) != 3 || deref(resp.GetOdataCount()) != 4 || resp.GetOdataNextLink() == nil {
		t.Fatalf("filtered page: %v count %v", err, resp)
	}
	it, err := core.NewPageIterator[models.Applicationable](resp, ad, models.CreateApplicationCollectionResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	it.SetHeaders(eventual)
	var names []string
	if err := it.Iterate(ctx, func(a models.Applicationable) bool { names = append(names, deref(a.GetDisplayName())); return true }); err != nil || len(names) != 4 {
		t.Fatalf("iterated %v: %v", names, err)
	}

	// $batch through the SDK's batch request.
	batch := core.NewBatchRequest(ad)
	orgInfo, _ := organization.NewOrganizationRequestBuilderInternal(base(ad), ad).ToGetRequestInformation(ctx, nil)
	orgItem, err := batch.AddBatchRequestStep(*orgInfo)
	if err != nil {
		t.Fatal(err)
	}
	missingInfo, _ := apps.ByApplicationId("00000000-0000-0000-0000-0000000000aa").ToGetRequestInformation(ctx, nil)
	missingItem, _ := batch.AddBatchRequestStep(*missingInfo)
	br, err := batch.Send(ctx, ad)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	codes := br.GetStatusCodes()
	if codes[deref(orgItem.GetId())] != 200 || codes[deref(missingItem.GetId())] != 404 {
		t.Fatalf("batch statuses %v", codes)
	}
	orgs, err := core.GetBatchResponseById[models.OrganizationCollectionResponseable](br, deref(orgItem.GetId()), models.CreateOrganizationCollectionResponseFromDiscriminatorValue)
	if err != nil || len(orgs.GetValue()) != 1 || deref(orgs.GetValue()[0].GetTenantType()) != "AAD" {
		t.Fatalf("batch org: %v", err)
	}

	// Delete, list deleted items, purge; then reads are 404.
	if err := apps.ByApplicationId(objID).Delete(ctx, nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	dir := directory.NewDirectoryRequestBuilderInternal(base(ad), ad)
	deleted, err := dir.DeletedItems().GraphApplication().Get(ctx, nil)
	if err != nil || len(deleted.GetValue()) != 1 || deleted.GetValue()[0].GetDeletedDateTime() == nil {
		t.Fatalf("deleted apps: %v", err)
	}
	if err := dir.DeletedItems().ByDirectoryObjectId(objID).Delete(ctx, nil); err != nil {
		t.Fatalf("purge: %v", err)
	}
	_, err = byName.Get(ctx, nil)
	odataErr(t, err, 404, "Request_ResourceNotFound")
	err = dir.DeletedItems().ByDirectoryObjectId(objID).Delete(ctx, nil)
	odataErr(t, err, 404, "Request_ResourceNotFound")
}

func TestGraphContractErrorShapes(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	ctx := context.Background()
	ad := sdkAdapter(t, g.e, staticCred{g.token})
	apps := applications.NewApplicationsRequestBuilderInternal(base(ad), ad)
	bad := models.NewApplication()
	bad.SetDisplayName(ptr("bad"))
	bad.SetTags([]string{"has space"})
	_, err := apps.Post(ctx, bad, nil)
	if odataErr(t, err, 400, "Request_BadRequest"); err.Error() != "Invalid value specified for property 'tags' of resource 'Application'." {
		t.Fatalf("validation: %v", err)
	}
	// 401 and 403 from tokens.
	_, err = applications.NewApplicationsRequestBuilderInternal(base(ad), sdkAdapter(t, g.e, staticCred{"not.a.token"})).Get(ctx, nil)
	odataErr(t, err, 401, "InvalidAuthenticationToken")
	_, err = applications.NewApplicationsRequestBuilderInternal(base(ad), sdkAdapter(t, g.e, staticCred{g.appToken("User.Read.All")})).Get(ctx, nil)
	odataErr(t, err, 403, "Authorization_RequestDenied")
	// Replication lag: NoBackingApplicationObject in details.
	g.e.SetReplicationLag(time.Hour)
	a := models.NewApplication()
	a.SetDisplayName(ptr("lagging"))
	made, err := apps.Post(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	sp := models.NewServicePrincipal()
	sp.SetAppId(made.GetAppId())
	_, err = serviceprincipals.NewServicePrincipalsRequestBuilderInternal(base(ad), ad).Post(ctx, sp, nil)
	oe := odataErr(t, err, 400, "Request_BadRequest")
	if ds := oe.GetErrorEscaped().GetDetails(); len(ds) != 1 || deref(ds[0].GetCode()) != "NoBackingApplicationObject" || deref(ds[0].GetTarget()) != "appId" {
		t.Fatalf("details = %v", ds)
	}
	_, err = apps.ByApplicationId(deref(made.GetId())).AddPassword().Post(ctx, applications.NewItemAddPasswordPostRequestBody(), nil)
	odataErr(t, err, 404, "Request_ResourceNotFound")
	// Policy on secret lifetime.
	g.e.SetFaults(FaultConfig{MaxSecretLifetime: Duration(24 * time.Hour)})
	mk, err := apps.Post(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = apps.ByApplicationId(deref(mk.GetId())).AddPassword().Post(ctx, applications.NewItemAddPasswordPostRequestBody(), nil)
	oe = odataErr(t, err, 400, "CredentialInvalidLifetimeAsPerAppPolicy")
	if ds := oe.GetErrorEscaped().GetDetails(); len(ds) != 1 || deref(ds[0].GetCode()) != "InvalidKeyEndDate" {
		t.Fatalf("policy details = %v", ds)
	}
	// Advanced query without ConsistencyLevel.
	_, err = apps.Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{Filter: ptr("displayName ne 'x'")}})
	if odataErr(t, err, 400, "Request_UnsupportedQuery"); !strings.HasPrefix(err.Error(), "Operator 'ne' is not supported") {
		t.Fatalf("advanced query: %v", err)
	}
}

func TestGraphContractUserFlowLink(t *testing.T) {
	g := newGraphEnv(t, Options{}, ExternalID)
	ctx := context.Background()
	ad := sdkAdapter(t, g.e, staticCred{g.token})
	id := identity.NewIdentityRequestBuilderInternal(base(ad), ad)
	flows, err := id.AuthenticationEventsFlows().Get(ctx, nil)
	if err != nil || len(flows.GetValue()) != 1 {
		t.Fatalf("flows: %v", err)
	}
	flow, ok := flows.GetValue()[0].(models.ExternalUsersSelfServiceSignUpEventsFlowable)
	if !ok {
		t.Fatalf("flow parsed as %T, want an externalUsersSelfServiceSignUpEventsFlow", flows.GetValue()[0])
	}
	a := models.NewApplication()
	a.SetDisplayName(ptr("ciam"))
	app, err := applications.NewApplicationsRequestBuilderInternal(base(ad), ad).Post(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	sp := models.NewServicePrincipal()
	sp.SetAppId(app.GetAppId())
	if _, err := serviceprincipals.NewServicePrincipalsRequestBuilderInternal(base(ad), ad).Post(ctx, sp, nil); err != nil {
		t.Fatal(err)
	}
	link := models.NewAuthenticationConditionApplication()
	link.SetAppId(app.GetAppId())
	inc := id.AuthenticationEventsFlows().ByAuthenticationEventsFlowId(deref(flow.GetId())).Conditions().Applications().IncludeApplications()
	got, err := inc.Post(ctx, link, nil)
	if err != nil || deref(got.GetAppId()) != deref(app.GetAppId()) {
		t.Fatalf("includeApplications: %v", err)
	}
	l, err := inc.Get(ctx, nil)
	if err != nil || len(l.GetValue()) != 1 {
		t.Fatalf("includeApplications list: %v", err)
	}
}

// TestGraphContractClientSecretCredential gets the token the way automation does: azidentity's
// client-secret credential against the emulator's token endpoint (login.token), under the
// real authority host.
func TestGraphContractClientSecretCredential(t *testing.T) {
	g := newGraphEnv(t, Options{}, Workforce)
	cred, err := azidentity.NewClientSecretCredential(g.tenant.ID, g.tenant.Automation.AppID, g.tenant.Automation.Secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Transport: &http.Client{Transport: g.e.Transport()}},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ad := sdkAdapter(t, g.e, cred)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	orgs, err := organization.NewOrganizationRequestBuilderInternal(base(ad), ad).Get(ctx, nil)
	// MSAL Go adds openid, profile and offline_access to every request, client credentials
	// included; Entra accepts them beside a /.default scope, and so must the emulator.
	if err != nil || len(orgs.GetValue()) != 1 || deref(orgs.GetValue()[0].GetId()) != g.tenant.ID {
		t.Fatalf("organization with a client-credentials token: %v", err)
	}
	a := models.NewApplication()
	a.SetDisplayName(ptr("from automation"))
	if _, err := applications.NewApplicationsRequestBuilderInternal(base(ad), ad).Post(ctx, a, nil); err != nil {
		t.Fatalf("create with a client-credentials token: %v", err)
	}
}
