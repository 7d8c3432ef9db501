package verify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// listenLoopback binds the sample's port on 127.0.0.1 and, when this machine has IPv6, on [::1]
// too: browsers resolve "localhost" to either, and a different program holding [::1]:port would
// otherwise receive half of the redirects. When the port is busy (or privileged) on either, it
// takes a free port for both instead: Entra ignores the port of a localhost redirect URI.
// fellBack, when not nil, is why the port asked for could not be taken (EADDRINUSE or EACCES):
// the port got is another one.
func listenLoopback(host string, port int) (lns []net.Listener, got int, fellBack error, err error) {
	if lns, err = listenPair(host, port); err == nil {
		return lns, port, nil, nil
	}
	if !busy(err) {
		return nil, 0, nil, err
	}
	first := err
	for range 5 {
		if lns, err = listenPair(host, 0); err == nil {
			return lns, portOf(lns[0].Addr()), first, nil
		}
	}
	return nil, 0, nil, fmt.Errorf("port %d is busy (%w) and no free port was found: %w", port, first, err)
}

// listenPair listens on host:port (host "" means 127.0.0.1 and, if present, [::1]).
func listenPair(host string, port int) ([]net.Listener, error) {
	if host != "" {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, err
		}
		return []net.Listener{ln}, nil
	}
	v4, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	p := portOf(v4.Addr())
	v6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(p)))
	switch {
	case err == nil:
		return []net.Listener{v4, v6}, nil
	case busy(err):
		v4.Close()
		return nil, err
	default:
		// No IPv6 loopback on this machine: 127.0.0.1 alone serves "localhost".
		return []net.Listener{v4}, nil
	}
}

func busy(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EACCES)
}

func portOf(a net.Addr) int {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.Port
	}
	return 0
}

// whoListens says what holds a loopback port, as far as one request to it can tell; most often
// it is the sample itself, started before the check. It reaches only localhost.
func whoListens(ctx context.Context, scheme string, port int) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	tr := &http.Transport{
		Proxy: nil, // localhost, never through a proxy
		// Only the headers of a server on this machine are read: its certificate does not matter.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback only
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+withPort("localhost", port)+"/", nil)
	if err != nil {
		return "another program holds it"
	}
	resp, err := c.Do(req)
	if err != nil {
		return "another program holds it (it does not answer " + scheme + ")"
	}
	resp.Body.Close()
	var said []string
	for _, h := range []string{"Server", "X-Powered-By"} {
		if v := resp.Header.Get(h); v != "" {
			v = strings.Map(func(r rune) rune {
				if !unicode.IsPrint(r) {
					return '?'
				}
				return r
			}, v)
			if len(v) > 60 {
				v = v[:60] + "..."
			}
			said = append(said, h+": "+v)
		}
	}
	if len(said) == 0 {
		return "a web server answers there, probably the sample itself"
	}
	return "a web server answers there (" + strings.Join(said, ", ") + "), probably the sample itself"
}
