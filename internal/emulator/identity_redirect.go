package emulator

import (
	"net/url"
	"strings"
)

// Redirect-URI matching as Entra does it (facts/identity.md §2.1, reply-url.md): scheme and host
// compared case-insensitively, the path case-sensitively, the query exactly; https required
// except for loopback hosts; the port ignored for loopback hosts (localhost and 127.0.0.1, which
// still differ from each other); a URI without a path is the same as one with "/".

// platform is where a matching redirect URI is registered: it decides how the code may be
// redeemed (a web app must authenticate, a public client must not).
type platform string

const (
	platformWeb    platform = "web"
	platformPublic platform = "publicClient"
	platformSPA    platform = "spa"
)

func isLoopbackHost(h string) bool {
	h = strings.ToLower(h)
	return h == "localhost" || h == "127.0.0.1"
}

// redirectMatches reports whether a requested redirect URI matches a registered one.
func redirectMatches(registered, requested string) bool {
	reg, err1 := url.Parse(registered)
	req, err2 := url.Parse(requested)
	if err1 != nil || err2 != nil || req.Fragment != "" || req.User != nil {
		return false
	}
	if !strings.EqualFold(reg.Scheme, req.Scheme) || !strings.EqualFold(reg.Hostname(), req.Hostname()) {
		return false
	}
	scheme := strings.ToLower(req.Scheme)
	loop := isLoopbackHost(req.Hostname())
	if scheme == "http" && !loop {
		return false
	}
	if !loop && portOrDefault(reg) != portOrDefault(req) {
		return false
	}
	if pathOrSlash(reg) != pathOrSlash(req) || reg.RawQuery != req.RawQuery {
		return false
	}
	return true
}

func portOrDefault(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

func pathOrSlash(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	return p
}

// redirectTarget is where Entra sends the answer: the requested URI, with "/" added when it has
// no path (the port the client used is kept: that is the point of ignoring it).
func redirectTarget(requested string) string {
	u, err := url.Parse(requested)
	if err != nil {
		return requested
	}
	if u.Path == "" && u.Opaque == "" {
		u.Path = "/"
	}
	return u.String()
}

// matchRedirect finds the platform of a requested redirect URI among an app's registrations.
func matchRedirect(app *Application, requested string) (platform, bool) {
	for _, set := range []struct {
		p    platform
		uris []string
	}{{platformWeb, app.Web.RedirectURIs}, {platformPublic, app.PublicClient.RedirectURIs}, {platformSPA, app.Spa.RedirectURIs}} {
		for _, reg := range set.uris {
			if redirectMatches(reg, requested) {
				return set.p, true
			}
		}
	}
	return "", false
}

// hasAnyRedirect reports whether an app has a reply address at all.
func hasAnyRedirect(app *Application) bool {
	return len(app.Web.RedirectURIs)+len(app.PublicClient.RedirectURIs)+len(app.Spa.RedirectURIs) > 0
}

// trailingSlashHint is the "More details" Entra adds when the only difference is a trailing
// slash.
func trailingSlashHint(app *Application, requested string) string {
	for _, reg := range app.Web.RedirectURIs {
		if redirectMatches(reg, strings.TrimSuffix(requested, "/")) || redirectMatches(reg, requested+"/") {
			if strings.HasSuffix(reg, "/") && !strings.HasSuffix(requested, "/") {
				return " More details: Reply address did not match because requested address did not have a trailing slash."
			}
			return " More details: Reply address did not match because of a trailing slash."
		}
	}
	return ""
}
