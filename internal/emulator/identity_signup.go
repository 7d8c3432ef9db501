package emulator

import (
	"net/http"
	"net/mail"
	"strings"
	"unicode"
)

// External ID self-service sign-up: offered ("No account? Create one", or prompt=create) only
// when the app is linked to a sign-up/sign-in user flow; it collects the flow's attributes
// (email and password always, display name when the flow asks) and creates the customer.

// signUpPage shows the sign-up form, or returns nil when the app has no user flow.
func (e *Emulator) signUpPage(d *Directory, f *authFlow, email, displayName, msg string) respond {
	t := tenantOf(d, f.TenantID)
	if t == nil || t.Type != ExternalID {
		return nil
	}
	flow := t.FlowForApp(f.ClientID)
	if flow == nil {
		return nil
	}
	ask := false
	for _, a := range flow.Attributes {
		ask = ask || strings.EqualFold(a, "displayName")
	}
	status := http.StatusOK
	if msg != "" {
		status = http.StatusBadRequest
	}
	return page(status, "signup", pageData{
		Title: "Create account", Tenant: t.DisplayName, App: e.clientName(d, f), Action: f.PageBase + "/signup", Flow: f.ID,
		Username: email, DisplayName: displayName, AskDisplayName: ask, Error: msg, SignInURL: f.PageBase + "/login?flow=" + f.ID,
	})
}

// handleSignUp serves the sign-up page (GET ?flow=) and creates the account (POST).
func (e *Emulator) handleSignUp(w http.ResponseWriter, r *http.Request, _ params) {
	post := r.Method == http.MethodPost // only a POST changes the directory
	e.serveFlow(w, r, post, func(d *Directory, f *authFlow) respond {
		if post {
			return e.signUp(w, r, d, f)
		}
		if out := e.signUpPage(d, f, "", "", ""); out != nil {
			return out
		}
		return e.loginPage(d, f, "", "", 0)
	})
}

func (e *Emulator) signUp(w http.ResponseWriter, r *http.Request, d *Directory, f *authFlow) respond {
	t := tenantOf(d, f.TenantID)
	if t == nil || t.Type != ExternalID || t.FlowForApp(f.ClientID) == nil {
		return e.loginPage(d, f, "", "", 0)
	}
	email := strings.TrimSpace(r.Form.Get("email"))
	password := r.Form.Get("password")
	name := strings.TrimSpace(r.Form.Get("displayName"))
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return e.signUpPage(d, f, email, name, "Please enter a valid email address.")
	}
	if t.UserByName(email) != nil {
		return e.signUpPage(d, f, email, name, "An account with this email address already exists.")
	}
	if !strongPassword(password) {
		return e.signUpPage(d, f, email, name, "The password must be 8 to 256 characters and have three of these: lowercase letters, uppercase letters, numbers, symbols.")
	}
	if name == "" {
		name = "unknown" // what External ID shows when the flow does not collect a name
	}
	id := NewGUID()
	u := &User{ID: id, DisplayName: name, UserPrincipalName: id + "@" + t.Domain, Mail: email, Password: password, SignedUp: true}
	t.Users = append(t.Users, u)
	e.identity.mu.Lock()
	acc := e.identity.signInLocked(w, r, e.now(), t, u)
	e.identity.mu.Unlock()
	f.UserID, f.UserTenant, f.SID = u.ID, t.ID, acc.SID
	return e.advance(w, r, d, f)
}

// strongPassword is External ID's default policy: 8-256 characters, three of four classes.
func strongPassword(p string) bool {
	if len(p) < 8 || len(p) > 256 {
		return false
	}
	var lower, upper, digit, other int
	for _, c := range p {
		switch {
		case unicode.IsLower(c):
			lower = 1
		case unicode.IsUpper(c):
			upper = 1
		case unicode.IsDigit(c):
			digit = 1
		default:
			other = 1
		}
	}
	return lower+upper+digit+other >= 3
}
