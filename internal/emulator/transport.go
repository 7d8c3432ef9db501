package emulator

import (
	"net/http"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// Transport returns an http.Transport that trusts only the emulator's CA and reaches the real
// host names at the emulator (the dialer override), so a client configured for the real cloud
// talks to the emulator with certificate checks intact.
func (e *Emulator) Transport() *http.Transport {
	return emuclient.Transport(e.Addr(), e.CAPool())
}

// Client returns an http.Client over Transport. It does not follow redirects to other hosts by
// itself differently from a browser: it follows them as net/http does.
func (e *Emulator) Client() *http.Client {
	return &http.Client{Transport: e.Transport(), Timeout: 60 * time.Second}
}

// HostResolverRules is the Chromium flag value that sends the real host names to the emulator:
// --host-resolver-rules="MAP login.microsoftonline.com:443 127.0.0.1:PORT, ...". Each rule is
// "MAP <host pattern>[:<port>] <host>[:<port>]", comma-separated; the pattern may hold a port and
// '*', and the replacement's port is the one dialled, while the page keeps its real URL, Host
// header and SNI (checked with Chromium 156 in browser_test.go). A browser started with it (and
// trusting the CA: --ignore-certificate-errors-spki-list with the CA's key hash and a
// --user-data-dir, or --ignore-certificate-errors in tests) signs in at
// https://login.microsoftonline.com as on a real tenant.
func (e *Emulator) HostResolverRules() string {
	a := e.Addr()
	return "MAP login.microsoftonline.com:443 " + a + ", MAP graph.microsoft.com:443 " + a + ", MAP *.ciamlogin.com:443 " + a
}
