package verify

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// listenLoopback binds the sample's port on 127.0.0.1 and, when this machine has IPv6, on [::1]
// too: browsers resolve "localhost" to either, and a different program holding [::1]:port would
// otherwise receive half of the redirects. When the port is busy (or privileged) on either, it
// takes a free port for both instead: Entra ignores the port of a localhost redirect URI.
// fellBack reports that the port is not the one asked for.
func listenLoopback(host string, port int) (lns []net.Listener, got int, fellBack bool, err error) {
	if lns, err = listenPair(host, port); err == nil {
		return lns, port, false, nil
	}
	if !busy(err) {
		return nil, 0, false, err
	}
	first := err
	for range 5 {
		if lns, err = listenPair(host, 0); err == nil {
			return lns, portOf(lns[0].Addr()), true, nil
		}
	}
	return nil, 0, false, fmt.Errorf("port %d is busy (%w) and no free port was found: %w", port, first, err)
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
