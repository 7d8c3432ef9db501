package emulator

import (
	"context"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// The wizard signs itself in with azidentity (MSAL Go underneath): its checks (issuer against
// authority, declined scopes, client_info) must pass against the emulator under the real names.
func TestAzidentityDeviceCodeAndClientSecret(t *testing.T) {
	e := start(t, Options{})
	wf := tenantOfType(e, Workforce)
	opts := azcore.ClientOptions{Transport: e.Client()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	approved := make(chan error, 1)
	cred, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
		ClientOptions: opts, TenantID: wf.ID, ClientID: "14d82eec-204b-4c2f-b7e8-296a70dab67e",
		UserPrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
			go func() {
				approved <- emuclient.ApproveDeviceCode(ctx, browser(e), m.VerificationURL, m.UserCode,
					emuclient.SignInOptions{Username: "adele@contoso.onmicrosoft.com", Password: DemoPassword})
			}()
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	scopes := []string{"https://graph.microsoft.com/Application.ReadWrite.All", "https://graph.microsoft.com/DelegatedPermissionGrant.ReadWrite.All"}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: scopes})
	if err != nil {
		t.Fatalf("device code: %v", err)
	}
	if err := <-approved; err != nil {
		t.Fatalf("approving the code: %v", err)
	}
	if scp, _ := claimsOf(t, tok.Token)["scp"].(string); scp == "" {
		t.Fatalf("no scp in %v", claimsOf(t, tok.Token))
	}
	// The token is cached and refreshable: a second call is silent.
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: scopes[:1]}); err != nil {
		t.Fatalf("silent: %v", err)
	}

	sec, err := azidentity.NewClientSecretCredential(wf.ID, wf.Automation.AppID, wf.Automation.Secret, &azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sec.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}); err != nil {
		t.Fatalf("client secret: %v", err)
	}
}
