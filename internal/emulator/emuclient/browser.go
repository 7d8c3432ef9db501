package emuclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// LoopbackBrowser is an HTTP client with cookies that reaches only this machine: the emulator,
// verified by roots (its CA) when roots is not nil, and a relying party's own server, whose
// self-signed localhost certificate it accepts as a browser would after the warning.
func LoopbackBrowser(roots *x509.CertPool) *http.Client {
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if host != "localhost" {
				if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
					return nil, fmt.Errorf("auto sign-in stays on this machine; refused %s", addr)
				}
			}
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback only, see DialContext
	}
	if roots != nil {
		// Verify the emulator by its CA; accept the relying party's self-signed localhost certificate.
		tr.TLSClientConfig.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no certificate")
			}
			leaf := cs.PeerCertificates[0]
			if leaf.Issuer.String() == leaf.Subject.String() {
				return nil // the relying party's self-signed localhost certificate
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: cs.ServerName})
			return err
		}
	}
	return &http.Client{Transport: tr, Jar: jar, Timeout: 60 * time.Second}
}

// SignInThroughApp plays the person at the browser of a relying party on this machine (the
// verify command's sign-in check): it opens the app's start page, follows its "signin" link to
// the emulator, signs in (and consents) there with opts, delivers the answer to the app, then
// follows the app's "signout" link through the emulator's end-session page and back. client
// should be a LoopbackBrowser. When the app shows no "signout" link after the sign-in, the app
// ended there (a failure it reports itself) and SignInThroughApp returns nil.
func SignInThroughApp(ctx context.Context, client *http.Client, start string, opts SignInOptions) error {
	page, err := browse(ctx, client, http.MethodGet, start, nil)
	if err != nil {
		return err
	}
	signIn, err := appLink(start, page, "signin")
	if err != nil {
		return err
	}
	// The app's sign-in link redirects to the emulator's authorize endpoint: the driver starts
	// there (it stops at the first redirect that leaves the emulator).
	authorize, err := redirectTarget(ctx, client, signIn)
	if err != nil {
		return err
	}
	arrival, err := SignIn(ctx, client, authorize, opts)
	if err != nil {
		return fmt.Errorf("auto sign-in: %w", err)
	}
	signedIn, err := browse(ctx, client, arrival.Method, arrival.URL.String(), arrival.Form)
	if err != nil {
		return err
	}
	signOut, err := appLink(arrival.URL.String(), signedIn, "signout")
	if err != nil {
		return nil // the app ended on this page: a failure it reports itself
	}
	logout, err := redirectTarget(ctx, client, signOut) // the emulator's end-session URL
	if err != nil {
		return fmt.Errorf("auto sign-out: %w", err)
	}
	back, err := SignOut(ctx, client, logout)
	if err != nil || back == nil {
		return err
	}
	_, err = browse(ctx, client, http.MethodGet, back.String(), nil)
	return err
}

// browse fetches a page as the browser does (following redirects); a POST sends form, the way
// a form_post answer reaches the app.
func browse(ctx context.Context, c *http.Client, method, u string, form url.Values) (string, error) {
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return "", err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		if method == http.MethodPost {
			return "", err
		}
		return "", fmt.Errorf("auto sign-in: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return string(b), err
}

// redirectTarget fetches u and returns where it redirects, without following.
func redirectTarget(ctx context.Context, c *http.Client, u string) (string, error) {
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := nc.Do(req)
	if err != nil {
		return "", fmt.Errorf("auto sign-in: %w", err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("auto sign-in: %s answered %s, not a redirect", u, resp.Status)
	}
	return loc.String(), nil
}

// appLink is the href of the anchor with this id on an app's page, resolved against the
// page's URL.
func appLink(pageURL, page, id string) (string, error) {
	href, ok := parsePage(page).links[id]
	if !ok {
		return "", fmt.Errorf("auto sign-in: no %q link on the page", id)
	}
	base, err := url.Parse(pageURL)
	if err != nil {
		return "", err
	}
	ref, err := url.Parse(href)
	if err != nil {
		return "", err
	}
	return base.ResolveReference(ref).String(), nil
}
