package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Caller is who the Graph calls are made as: a person (delegated sign-in) or an app (client
// credentials).
type Caller struct {
	// ObjectID is the person's user object id, or for an app the object id of its service
	// principal in this tenant (what Graph lists among an app's owners).
	ObjectID string
	// AppID is the client id the token was issued to.
	AppID string
	// UserPrincipalName is the person's sign-in name; empty for an app.
	UserPrincipalName string
	// App is true for an app-only (client credentials) token.
	App bool
}

// Name is the caller as a person reads it.
func (c Caller) Name() string {
	if c.App {
		return "the app " + c.AppID
	}
	if c.UserPrincipalName != "" {
		return c.UserPrincipalName
	}
	return "user " + c.ObjectID
}

// Caller says who signs the calls, from the claims of the access token the client holds (oid,
// appid, upn, scp or idtyp). The token is not checked here: Graph checks it; this only reads
// who it names, so that the tool can name what is the caller's own.
func (c *Client) Caller(ctx context.Context) (Caller, error) {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: c.scopes})
	if err != nil {
		return Caller{}, &Error{Op: "find out who is signed in", Err: &AuthError{Err: err}}
	}
	parts := strings.Split(tok.Token, ".")
	if len(parts) != 3 {
		return Caller{}, fmt.Errorf("graph: find out who is signed in: the access token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Caller{}, fmt.Errorf("graph: find out who is signed in: the access token's claims: %w", err)
	}
	var cl struct {
		OID   string `json:"oid"`
		AppID string `json:"appid"`
		AZP   string `json:"azp"`
		UPN   string `json:"upn"`
		PUN   string `json:"preferred_username"`
		SCP   string `json:"scp"`
		IDTyp string `json:"idtyp"`
	}
	if err := json.Unmarshal(b, &cl); err != nil {
		return Caller{}, fmt.Errorf("graph: find out who is signed in: the access token's claims: %w", err)
	}
	out := Caller{ObjectID: cl.OID, AppID: cl.AppID, UserPrincipalName: cl.UPN, App: cl.IDTyp == "app" || (cl.IDTyp == "" && cl.SCP == "")}
	if out.AppID == "" {
		out.AppID = cl.AZP
	}
	if out.UserPrincipalName == "" && !out.App {
		out.UserPrincipalName = cl.PUN
	}
	if out.ObjectID == "" {
		return Caller{}, fmt.Errorf("graph: find out who is signed in: the access token names no object id (oid)")
	}
	return out, nil
}

// Owner is one owner of an app: a user or a service principal.
type Owner struct {
	ID                string
	Type              string // "user" or "servicePrincipal"
	DisplayName       string
	UserPrincipalName string // users
	AppID             string // service principals
}

// Name is the owner as a person reads it.
func (o Owner) Name() string {
	switch {
	case o.UserPrincipalName != "":
		return o.UserPrincipalName
	case o.AppID != "":
		return fmt.Sprintf("app %s (%s)", o.DisplayName, o.AppID)
	case o.DisplayName != "":
		return o.DisplayName
	}
	return o.ID
}

// Owners lists an app's owners (GET /applications/{id}/owners). With justWritten, not found is
// taken for replication lag (the app was just made).
func (c *Client) Owners(ctx context.Context, appObjectID string, justWritten bool) ([]Owner, error) {
	var out []Owner
	err := c.call(ctx, "read the app's owners", justWritten, func(ctx context.Context) error {
		out = nil
		res, err := applications.NewApplicationsRequestBuilderInternal(c.pathParams(), c.adapter).ByApplicationId(appObjectID).Owners().Get(ctx, nil)
		if err != nil {
			return err
		}
		for _, o := range res.GetValue() {
			w := Owner{ID: deref(o.GetId())}
			switch x := o.(type) {
			case models.Userable:
				w.Type, w.DisplayName, w.UserPrincipalName = "user", deref(x.GetDisplayName()), deref(x.GetUserPrincipalName())
			case models.ServicePrincipalable:
				w.Type, w.DisplayName, w.AppID = "servicePrincipal", deref(x.GetDisplayName()), deref(x.GetAppId())
			}
			out = append(out, w)
		}
		return nil
	})
	return out, err
}

// AddOwner makes a directory object (by id) an owner of an app (POST
// /applications/{id}/owners/$ref). One already an owner counts as added. The app was just
// made, so not found is replication lag.
func (c *Client) AddOwner(ctx context.Context, appObjectID, objectID string) error {
	err := c.call(ctx, "make you an owner of the app", true, func(ctx context.Context) error {
		body := models.NewReferenceCreate()
		ref := c.base + "/directoryObjects/" + objectID
		body.SetOdataId(&ref)
		return applications.NewApplicationsRequestBuilderInternal(c.pathParams(), c.adapter).ByApplicationId(appObjectID).Owners().Ref().Post(ctx, body, nil)
	})
	if ge, ok := AsError(err); ok && ge.Status == 400 && strings.Contains(strings.ToLower(ge.Message), "already exist") {
		return nil
	}
	return err
}
