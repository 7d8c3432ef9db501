package verify

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no network in the fuzz test")
}

// fuzzJourney is a sign-in server waiting for one sign-in (state "good-state") at
// http://localhost:3000/auth/redirect, whose token endpoint is unreachable: a request that gets
// past the checks reaches the code exchange, and the fuzz test sees it in the report.
func fuzzJourney(t *testing.T) *journey {
	t.Helper()
	diag, err := LoadDiagnoses()
	if err != nil {
		t.Fatal(err)
	}
	pg, err := loadPages()
	if err != nil {
		t.Fatal(err)
	}
	red, _ := url.Parse("http://localhost:3000/auth/redirect")
	post, _ := url.Parse("http://localhost:3000/")
	client := &http.Client{Transport: failingTransport{}}
	tokenURL := "https://login.invalid/tenant/oauth2/v2.0/token"
	j := &journey{
		cfg:  Config{Authority: "https://login.invalid/tenant", ClientID: "client", ClientSecret: "secret", RedirectURI: red.String()},
		opts: Options{}.withDefaults(), diag: diag, pages: pg,
		rp: &relyingParty{client: client, doc: discoveryDoc{TokenURL: tokenURL}, now: time.Now,
			oauth: oauth2.Config{ClientID: "client", ClientSecret: "secret", Endpoint: oauth2.Endpoint{TokenURL: tokenURL}}},
		attempts: map[string]*attempt{"good-state": {state: "good-state", nonce: "n", verifier: oauth2.GenerateVerifier(), created: time.Now()}},
		scheme:   "http", port: 3000, hosts: map[string]bool{"localhost:3000": true, "127.0.0.1:3000": true, "[::1]:3000": true},
		redirect: red, postLogout: post, done: make(chan struct{}),
	}
	for _, s := range Steps() {
		j.report.Steps = append(j.report.Steps, StepResult{Step: s, Title: s.Title(), Status: Pending})
	}
	return j
}

// FuzzCallback sends the sign-in server's handler arbitrary requests (host, method, path and
// query, and a form body), then the same again. Whatever comes: no panic; a foreign Host gets 421
// and changes nothing; only the one outstanding state reaches the code exchange, and only once
// (a replay is refused); a refused request leaves the exchange untried.
func FuzzCallback(f *testing.F) {
	for _, s := range [][4]string{
		{"localhost:3000", "GET", "/auth/redirect", "code=abc&state=good-state"},
		{"localhost:3000", "GET", "/auth/redirect", "code=abc&state=forged"},
		{"localhost:3000", "GET", "/auth/redirect", "error=access_denied&error_description=AADSTS65004&state=good-state"},
		{"localhost:3000", "GET", "/auth/redirect", "state=good-state"},
		{"localhost:3000", "POST", "/auth/redirect", "code=abc&state=good-state&state=forged"},
		{"evil.example:3000", "GET", "/auth/redirect", "code=abc&state=good-state"},
		{"localhost:3000.evil.example", "GET", "/auth/redirect", "code=abc&state=good-state"},
		{"LOCALHOST:3000", "GET", "/Auth/Redirect", "code=abc&state=good-state"},
		{"127.0.0.1:3000", "GET", "/entra-quickstart/signout", ""},
		{"localhost:3000", "GET", "/entra-quickstart/signin", ""},
		{"localhost:3000", "GET", "/", "sid=x"},
		{"localhost:3000", "GET", "/auth/redirect", "code=%ZZ&state=%00good-state"},
		{"", "GET", "/auth/redirect", "code=abc&state=good-state"},
	} {
		f.Add(s[0], s[1], s[2], s[3], "")
	}
	f.Add("localhost:3000", "POST", "/auth/redirect", "", "code=abc&state=good-state")
	f.Fuzz(func(t *testing.T, host, method, path, query, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#\r\n\x00") || strings.ContainsAny(method, " \r\n\x00") || method == "" ||
			strings.ContainsAny(host, " /\r\n\x00") || strings.ContainsAny(query, " #\r\n\x00") {
			return // not a request line a client could send
		}
		j := fuzzJourney(t)
		if _, err := http.NewRequest(method, "http://localhost:3000"+path+"?"+query, nil); err != nil {
			return // a request line no server would accept
		}
		send := func() int {
			r, _ := http.NewRequest(method, "http://localhost:3000"+path+"?"+query, strings.NewReader(body))
			r.Host = host
			if body != "" {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			w := httptest.NewRecorder()
			j.ServeHTTP(w, r)
			return w.Code
		}
		tried := func() bool {
			return j.report.Step(StepCodeExchange).Status != Pending && j.report.Step(StepCodeExchange).Status != Skipped
		}
		code := send()
		foreign := !j.hosts[strings.ToLower(host)]
		if foreign {
			if code != http.StatusMisdirectedRequest || tried() || j.finished {
				t.Fatalf("foreign Host %q: status %d, exchange tried %v", host, code, tried())
			}
			return
		}
		first := tried()
		if first {
			// Only the outstanding state at the redirect path may get this far.
			form, _ := url.ParseQuery(query)
			if b, err := url.ParseQuery(body); err == nil && (method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch) {
				for k, v := range b {
					form[k] = append(v, form[k]...)
				}
			}
			if path != j.redirect.Path || form.Get("state") != "good-state" || !j.attempts["good-state"].used {
				t.Fatalf("the code exchange was tried for %s %s?%s body %q", method, path, query, body)
			}
		}
		// The same request again (a replay, or a browser's retry) never reaches the exchange.
		j.report.Steps[stepIndex(j, StepCodeExchange)].Status = Pending
		again := send()
		if tried() {
			t.Fatalf("the same request reached the code exchange twice (status %d then %d)", code, again)
		}
	})
}

func stepIndex(j *journey, s Step) int {
	for i, r := range j.report.Steps {
		if r.Step == s {
			return i
		}
	}
	return 0
}

// TestListensOnlyOnLoopback: the sign-in server's sockets are bound to loopback addresses only,
// on the sample's port and on the fallback port, so nothing on the network can reach it.
func TestListensOnlyOnLoopback(t *testing.T) {
	for _, port := range []int{0, 3000} {
		lns, _, _, err := listenLoopback("", port)
		if err != nil {
			t.Fatal(err)
		}
		for _, ln := range lns {
			a, ok := ln.Addr().(*net.TCPAddr)
			if !ok || !a.IP.IsLoopback() {
				t.Errorf("listening on %v, not a loopback address", ln.Addr())
			}
			ln.Close()
		}
	}
}
