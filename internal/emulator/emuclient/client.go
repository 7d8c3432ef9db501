// Package emuclient is the client side of the built-in emulator: how a client reaches it under
// the real host names (the dialer), the info document it publishes, and the scripted browser
// that signs a person in through its pages. It imports nothing of the server, so the commands
// and tests that only talk to an emulator do not build one.
package emuclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"strings"
	"time"
)

// IsEmulatedHost reports whether a host name (no port) is one the emulator stands in for.
func IsEmulatedHost(host string) bool {
	host = strings.ToLower(host)
	return host == "login.microsoftonline.com" || host == "graph.microsoft.com" || strings.HasSuffix(host, ".ciamlogin.com")
}

// RealHostDialer returns a DialContext that sends connections for the real host names (and
// localhost) to addr, the emulator's listener, and every other address nowhere: tests must not
// leave the machine.
func RealHostDialer(addr string) func(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		if IsEmulatedHost(host) {
			return d.DialContext(ctx, network, addr)
		}
		return d.DialContext(ctx, network, address)
	}
}

// Transport returns an http.Transport that trusts only roots (the emulator's CA) and reaches
// the real host names at addr, the emulator's listener, so a client configured for the real
// cloud talks to the emulator with certificate checks intact.
func Transport(addr string, roots *x509.CertPool) *http.Transport {
	return &http.Transport{
		DialContext:         RealHostDialer(addr),
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
}
