package emulator

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

// The sign-in pages: plain HTML forms that work without JavaScript (the form_post page and the
// sign-out page use a line of script only to save a click). Stable ids (login, picker, consent,
// signup, form_post, devicecode, aadsts-error, post-logout) are what the driver and browser
// tests look for.
//
//go:embed pages/*.html
var pageFiles embed.FS

// pageTemplates is parsed once; it is never modified after.
var pageTemplates = template.Must(template.ParseFS(pageFiles, "pages/*.html"))

// pageData is what every page may show; each template uses its own part.
type pageData struct {
	Title  string
	Tenant string // the tenant's display name in the banner
	App    string // the client's display name

	Action   string // the form's target
	Flow     string // the pending sign-in the form continues
	Username string
	Error    string
	// ErrorCode is the AADSTS code behind an inline error.
	ErrorCode int

	SignUpURL string
	SignInURL string
	// DemoUser, on the sign-in page, is a seeded user to sign in as, with the demo password.
	DemoUser       *User
	AskDisplayName bool
	DisplayName    string

	Accounts []pageAccount

	Permissions      []pagePermission
	Publisher        string
	Unverified       bool
	CanConsentForOrg bool

	// error pages
	Heading, Lead                                string
	Code                                         int
	Message, RequestID, CorrelationID, Timestamp string

	// form_post
	FormAction string
	Fields     []formField

	// sign-out
	FrontChannel  []string
	PostLogoutURL string
}

type pageAccount struct{ Name, Username string }

type pagePermission struct{ Value, Text string }

type formField struct{ Name, Value string }

// renderPage writes a page with the status given. Pages are never cached: they carry one-time
// form state.
func renderPage(w http.ResponseWriter, status int, name string, data pageData) {
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "emulator: page "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderErrorPage shows Entra's "Sorry, but we're having trouble signing you in" page for an
// error that cannot be sent to the app (the client or its redirect URI is not trusted). The
// status is 400 so that HTTP clients and the request log see the failure; a browser shows the
// page either way.
func renderErrorPage(w http.ResponseWriter, tenantName string, a aadstsError) {
	renderPage(w, http.StatusBadRequest, "error", pageData{
		Title: "Sign in to your account", Tenant: tenantName,
		Code: a.Code, Message: a.Text, RequestID: a.TraceID, CorrelationID: a.CorrelationID, Timestamp: a.Timestamp,
	})
}

// permissionText is the consent page's line for a permission.
func permissionText(v string) string {
	switch v {
	case "openid":
		return "Sign you in"
	case "profile":
		return "View your basic profile"
	case "email":
		return "View your email address"
	case "offline_access":
		return "Maintain access to data you have given it access to"
	case "User.Read":
		return "Sign you in and read your profile"
	}
	return "Access Microsoft Graph: " + v
}
