package verify

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

var (
	formRE  = regexp.MustCompile(`(?is)<form([^>]*)>(.*?)</form>`)
	inputRE = regexp.MustCompile(`(?is)<input([^>]*)>`)
	attrRE  = regexp.MustCompile(`(?is)([a-z_:.#-]+)\s*=\s*"([^"]*)"`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// submitForm posts the first form of a page with its inputs (hidden ones included: a provider
// may need them back) plus fill, and follows the redirects like a browser.
func (b *httpBrowser) submitForm(ctx context.Context, pageURL, body string, fill map[string]string) (int, string, string, error) {
	m := formRE.FindStringSubmatch(body)
	if m == nil {
		return 0, "", "", fmt.Errorf("no form on %s: %.300s", pageURL, body)
	}
	fa := attrs(m[1])
	v := url.Values{}
	for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
		a := attrs(in[1])
		if a["name"] != "" {
			v.Set(a["name"], a["value"])
		}
	}
	for k, x := range fill {
		v.Set(k, x)
	}
	base, _ := url.Parse(pageURL)
	action, err := base.Parse(fa["action"])
	if err != nil {
		return 0, "", "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(v.Encode()))
	if err != nil {
		return 0, "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}
