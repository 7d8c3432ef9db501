package emulator

import (
	"io"
	"strings"
	"testing"
)

// TestLoginPageNamesTheDemoUser: the emulator's sign-in page says who to sign in as and the
// demo password (a person who opened the URL by hand needs nothing else); never an admin.
func TestLoginPageNamesTheDemoUser(t *testing.T) {
	e := start(t, Options{})
	wf := tenantOfType(e, Workforce)
	ta := addApp(t, e, appSpec{kind: Workforce, redirects: []string{testRedirect}})
	resp, err := browser(e).Get(authorizeURL(wf.ID, ta.AppID, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if !strings.Contains(page, `id="login"`) {
		t.Fatalf("not the sign-in page:\n%s", page)
	}
	var demo *User
	e.Store().View(func(d *Directory) { demo = demoUserOf(d, wf.ID) })
	if demo == nil || demo.IsGlobalAdmin() {
		t.Fatalf("demo user %+v", demo)
	}
	for _, want := range []string{`id="demo-user"`, demo.UserPrincipalName, DemoPassword} {
		if !strings.Contains(page, want) {
			t.Errorf("the sign-in page lacks %q:\n%s", want, page)
		}
	}
}
