package emuclient

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The driver signs a person in through the emulator's pages over plain HTTP, the way a browser
// with JavaScript off would: it follows redirects, fills the login form (or the sign-up form),
// accepts the consent page, submits form_post pages, and stops at the first step that leaves
// the emulator, the app's redirect URI, without fetching it. The CLI's --auto-sign-in (a demo
// on a machine with no display) and tests use it; it needs no browser.

// SignInOptions say who signs in and how to answer the pages on the way.
type SignInOptions struct {
	Username string
	Password string
	// DeclineConsent answers the consent page with Cancel (the app gets access_denied).
	DeclineConsent bool
	// ConsentForOrganization ticks "Consent on behalf of your organization" (admins only).
	ConsentForOrganization bool
	// SignUp creates a new External ID account on the sign-up page ("No account? Create one")
	// instead of signing in; Username and Password are the new account's email and password.
	SignUp bool
	// DisplayName is the new account's name when the user flow asks for one.
	DisplayName string
}

// Arrival is where a sign-in left the emulator: a GET of URL (query or fragment response
// mode) or a POST of Form to URL (form_post). It has not been fetched.
type Arrival struct {
	Method string
	URL    *url.URL
	Form   url.Values
}

// Params are the answer's fields wherever they travel (form, fragment or query).
func (a *Arrival) Params() url.Values {
	if a.Method == http.MethodPost {
		return a.Form
	}
	if a.URL.Fragment != "" {
		v, _ := url.ParseQuery(a.URL.Fragment)
		return v
	}
	return a.URL.Query()
}

// PageError is an error the emulator showed on a page instead of sending it to the app (the
// "Sorry, but we're having trouble signing you in" page, a wrong password on the login page,
// "Need admin approval").
type PageError struct {
	Code    int    // the AADSTS number
	Message string // the page's text
	Status  int    // the HTTP status of the page
}

func (p *PageError) Error() string {
	return fmt.Sprintf("sign-in page shows AADSTS%d: %s", p.Code, p.Message)
}

// SignInWithForm signs username in at authorizeURL and returns the URL the emulator sends the
// browser to (the app's redirect URI with code, state, ...). For response_mode=form_post the
// posted fields are returned in the URL's query, so callers read one place either way; use
// SignIn to tell the two apart. client should keep cookies (a cookie jar) for single sign-on
// across calls; without a jar, one is made for this call.
func SignInWithForm(ctx context.Context, client *http.Client, authorizeURL, username, password string) (*url.URL, error) {
	a, err := SignIn(ctx, client, authorizeURL, SignInOptions{Username: username, Password: password})
	if err != nil {
		return nil, err
	}
	if a.Method != http.MethodPost {
		return a.URL, nil
	}
	u := *a.URL
	q := u.Query()
	for k, vs := range a.Form {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return &u, nil
}

// SignIn drives a sign-in from authorizeURL to the app's redirect URI.
func SignIn(ctx context.Context, client *http.Client, authorizeURL string, opts SignInOptions) (*Arrival, error) {
	d, err := newDriver(client, authorizeURL)
	if err != nil {
		return nil, err
	}
	return d.run(ctx, http.MethodGet, authorizeURL, nil, opts)
}

// SignOut follows an end-session URL and returns where the emulator sends the browser after
// (the post_logout_redirect_uri), or nil when it stays on "You signed out of your account".
// Use the same client (cookie jar) as for the sign-in, so the emulator knows the session. On the
// signed-out page it loads the front-channel logout iframes with client, as a browser does.
func SignOut(ctx context.Context, client *http.Client, logoutURL string) (*url.URL, error) {
	d, err := newDriver(client, logoutURL)
	if err != nil {
		return nil, err
	}
	a, err := d.run(ctx, http.MethodGet, logoutURL, nil, SignInOptions{})
	if errors.Is(err, errSignedOut) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return a.URL, nil
}

// ApproveDeviceCode enters a device code on the verification page and signs the user in
// there, as the person holding the device would; the device's polling then gets its tokens.
func ApproveDeviceCode(ctx context.Context, client *http.Client, verificationURI, userCode string, opts SignInOptions) error {
	d, err := newDriver(client, verificationURI)
	if err != nil {
		return err
	}
	_, err = d.run(ctx, http.MethodPost, verificationURI, url.Values{"otc": {userCode}}, opts)
	if errors.Is(err, errDeviceDone) {
		return nil
	}
	if err == nil {
		return fmt.Errorf("device code sign-in: the emulator redirected away instead of confirming")
	}
	return err
}

var (
	errSignedOut  = errors.New("signed out, no redirect")
	errDeviceDone = errors.New("device sign-in done")
)

type driver struct {
	c     http.Client
	start *url.URL
}

func newDriver(client *http.Client, startURL string) (*driver, error) {
	u, err := url.Parse(startURL)
	if err != nil {
		return nil, fmt.Errorf("emulator driver: %w", err)
	}
	if client == nil {
		client = http.DefaultClient
	}
	d := &driver{c: *client, start: u}
	d.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if d.c.Jar == nil {
		d.c.Jar, _ = cookiejar.New(nil)
	}
	return d, nil
}

// inEmulator reports whether a URL is served by the emulator: its real host names or the host
// the sign-in started at (the local base).
func (d *driver) inEmulator(u *url.URL) bool {
	return IsEmulatedHost(u.Hostname()) || strings.EqualFold(u.Host, d.start.Host)
}

const maxDriverSteps = 25

func (d *driver) run(ctx context.Context, method, target string, form url.Values, opts SignInOptions) (*Arrival, error) {
	tried := map[string]bool{}
	for step := 0; step < maxDriverSteps; step++ {
		u, err := url.Parse(target)
		if err != nil {
			return nil, fmt.Errorf("emulator driver: %w", err)
		}
		if !d.inEmulator(u) {
			if method == http.MethodPost {
				return &Arrival{Method: method, URL: u, Form: form}, nil
			}
			return &Arrival{Method: method, URL: u}, nil
		}
		status, loc, body, err := d.fetch(ctx, method, u, form)
		if err != nil {
			return nil, err
		}
		if loc != nil {
			method, target, form = http.MethodGet, loc.String(), nil
			continue
		}
		p := parsePage(body)
		if pe := p.pageError(status); pe != nil {
			if p.forms["login"] == nil || tried["login"] { // a login error after our own attempt is final
				return nil, pe
			}
		}
		switch {
		case p.forms["form_post"] != nil:
			f := p.forms["form_post"]
			method, target, form = http.MethodPost, f.resolve(u), f.values(nil)
		case p.forms["consent"] != nil:
			f := p.forms["consent"]
			action := "accept"
			if opts.DeclineConsent {
				action = "decline"
			}
			extra := map[string]string{"action": action}
			if opts.ConsentForOrganization {
				extra["consent_org"] = "1"
			}
			method, target, form = http.MethodPost, f.resolve(u), f.values(extra)
		case p.forms["signup"] != nil:
			if tried["signup"] {
				return nil, &PageError{Code: 0, Message: p.text("signup-error"), Status: status}
			}
			tried["signup"] = true
			f := p.forms["signup"]
			method, target, form = http.MethodPost, f.resolve(u), f.values(map[string]string{
				"email": opts.Username, "password": opts.Password, "displayName": opts.DisplayName, "action": "signup"})
		case p.forms["login"] != nil && opts.SignUp && p.links["create-account"] != "" && !tried["signup-link"]:
			tried["signup-link"] = true
			method, target, form = http.MethodGet, resolveRef(u, p.links["create-account"]), nil
		case p.forms["login"] != nil:
			if tried["login"] {
				if pe := p.pageError(status); pe != nil {
					return nil, pe
				}
				return nil, fmt.Errorf("emulator driver: the login page came back after signing in as %s", opts.Username)
			}
			if opts.SignUp {
				return nil, fmt.Errorf("emulator driver: sign-up asked for, but the app is not linked to a user flow (no \"Create one\" link)")
			}
			tried["login"] = true
			f := p.forms["login"]
			method, target, form = http.MethodPost, f.resolve(u), f.values(map[string]string{
				"username": opts.Username, "password": opts.Password, "action": "signin"})
		case p.forms["picker"] != nil:
			f := p.forms["picker"]
			pick := ""
			for _, a := range f.choices["account"] {
				if opts.Username == "" || strings.EqualFold(a, opts.Username) {
					pick = a
					break
				}
			}
			if tried["picker"] {
				pick = ""
			}
			tried["picker"] = true
			method, target, form = http.MethodPost, f.resolve(u), f.values(map[string]string{"account": pick, "action": "pick"})
		case p.forms["devicecode"] != nil:
			if tried["devicecode"] {
				return nil, &PageError{Message: p.text("device-error"), Status: status}
			}
			tried["devicecode"] = true
			f := p.forms["devicecode"]
			method, target, form = http.MethodPost, f.resolve(u), f.values(map[string]string{"otc": form.Get("otc"), "action": "code"})
		case p.links["post-logout"] != "":
			d.loadFrames(ctx, u, p)
			return &Arrival{Method: http.MethodGet, URL: mustParse(resolveRef(u, p.links["post-logout"]))}, nil
		case strings.Contains(body, "You signed out of your account"):
			d.loadFrames(ctx, u, p)
			return nil, errSignedOut
		case strings.Contains(body, "on your device. You may now close this window"):
			return nil, errDeviceDone
		default:
			if pe := p.pageError(status); pe != nil {
				return nil, pe
			}
			return nil, fmt.Errorf("emulator driver: unexpected page from %s (HTTP %d)", u.Redacted(), status)
		}
	}
	return nil, fmt.Errorf("emulator driver: more than %d steps without reaching the app", maxDriverSteps)
}

// loadFrames loads the page's iframes (the front-channel logout URLs on the signed-out page) as
// a browser does: GET each src with this client, at once, answers and errors ignored, before the
// page's script moves on to the post-logout redirect.
func (d *driver) loadFrames(ctx context.Context, base *url.URL, p *parsedPage) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, src := range p.frames {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, resolveRef(base, src), nil)
			if err != nil {
				return
			}
			req.Header.Set("Accept", "text/html")
			if resp, err := d.c.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		return &url.URL{}
	}
	return u
}

func resolveRef(base *url.URL, ref string) string {
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return base.ResolveReference(r).String()
}

// fetch makes one request; loc is set for a redirect.
func (d *driver) fetch(ctx context.Context, method string, u *url.URL, form url.Values) (status int, loc *url.URL, body string, err error) {
	var rd io.Reader
	if method == http.MethodPost {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, "", fmt.Errorf("emulator driver: %w", err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	resp, err := d.c.Do(req)
	if err != nil {
		return 0, nil, "", fmt.Errorf("emulator driver: %s %s: %w", method, u.Redacted(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, nil, "", fmt.Errorf("emulator driver: read %s: %w", u.Redacted(), err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		l, err := resp.Location()
		if err != nil {
			return 0, nil, "", fmt.Errorf("emulator driver: redirect without Location from %s", u.Redacted())
		}
		return resp.StatusCode, l, "", nil
	}
	return resp.StatusCode, nil, string(b), nil
}

// ---- the emulator's own pages, read by their stable ids ----

type htmlForm struct {
	action  string
	fields  url.Values          // inputs with their values (hidden fields, pre-filled ones)
	choices map[string][]string // submit buttons' values by name
}

func (f *htmlForm) resolve(base *url.URL) string { return resolveRef(base, f.action) }

// values are the form's fields with some set.
func (f *htmlForm) values(set map[string]string) url.Values {
	v := url.Values{}
	for k, vs := range f.fields {
		v[k] = append([]string(nil), vs...)
	}
	for k, x := range set {
		v.Set(k, x)
	}
	return v
}

type parsedPage struct {
	forms  map[string]*htmlForm // by id (the form_post page's by its id too)
	links  map[string]string    // href by id
	frames []string             // iframe srcs, in page order
	body   string
}

var (
	reForm   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	reInput  = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	reButton = regexp.MustCompile(`(?is)<button\b([^>]*)>`)
	reLink   = regexp.MustCompile(`(?is)<a\b([^>]*)>`)
	reFrame  = regexp.MustCompile(`(?is)<iframe\b([^>]*)>`)
	reAttr   = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	reByID   = regexp.MustCompile(`(?is)<[a-z]+\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</[a-z]+>`)
	reTags   = regexp.MustCompile(`(?s)<[^>]*>`)
	reCode   = regexp.MustCompile(`(?is)\bid="(?:aadsts-error|login-error)"[^>]*\bdata-code="(\d+)"|\bdata-code="(\d+)"[^>]*\bid="(?:aadsts-error|login-error)"`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range reAttr.FindAllStringSubmatch(s, -1) {
		v := a[2]
		if v == "" {
			v = a[3]
		}
		m[strings.ToLower(a[1])] = html.UnescapeString(v)
	}
	return m
}

func parsePage(body string) *parsedPage {
	p := &parsedPage{forms: map[string]*htmlForm{}, links: map[string]string{}, body: body}
	for _, m := range reForm.FindAllStringSubmatch(body, -1) {
		fa := attrs(m[1])
		f := &htmlForm{action: fa["action"], fields: url.Values{}, choices: map[string][]string{}}
		for _, in := range reInput.FindAllStringSubmatch(m[2], -1) {
			ia := attrs(in[1])
			if ia["name"] == "" || strings.EqualFold(ia["type"], "checkbox") || strings.EqualFold(ia["type"], "submit") {
				continue
			}
			f.fields.Add(ia["name"], ia["value"])
		}
		for _, b := range reButton.FindAllStringSubmatch(m[2], -1) {
			ba := attrs(b[1])
			if ba["name"] != "" {
				f.choices[ba["name"]] = append(f.choices[ba["name"]], ba["value"])
			}
		}
		id := fa["id"]
		if id == "" {
			id = fa["name"]
		}
		p.forms[id] = f
	}
	for _, m := range reFrame.FindAllStringSubmatch(body, -1) {
		if src := attrs(m[1])["src"]; src != "" {
			p.frames = append(p.frames, src)
		}
	}
	for _, m := range reLink.FindAllStringSubmatch(body, -1) {
		la := attrs(m[1])
		if la["id"] != "" {
			p.links[la["id"]] = la["href"]
		}
	}
	return p
}

// text is the visible text of the element with an id.
func (p *parsedPage) text(id string) string {
	for _, m := range reByID.FindAllStringSubmatch(p.body, -1) {
		if m[1] == id {
			return strings.Join(strings.Fields(html.UnescapeString(reTags.ReplaceAllString(m[2], " "))), " ")
		}
	}
	return ""
}

// pageError reads the AADSTS error a page shows, if any.
func (p *parsedPage) pageError(status int) *PageError {
	m := reCode.FindStringSubmatch(p.body)
	if m == nil {
		return nil
	}
	n := m[1]
	if n == "" {
		n = m[2]
	}
	code, _ := strconv.Atoi(n)
	msg := p.text("message")
	if msg == "" {
		msg = p.text("login-error")
	}
	return &PageError{Code: code, Message: msg, Status: status}
}
