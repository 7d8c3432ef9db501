package runner

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// startProxy runs a loopback HTTP CONNECT proxy until ctx ends, for runtimes that have no
// preload (.NET honours HTTPS_PROXY): tunnels to the hosts the emulator stands in for go to the
// emulator's address emu, tunnels to loopback go where they ask, and every other one is refused
// (refused is called with its host:port). TLS stays end to end: the client still checks the
// emulator's certificate against the real name. It returns the proxy's URL.
func startProxy(ctx context.Context, emu string, refused func(string)) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("run: the loopback proxy: %w", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			// Plain http (HTTP_PROXY): loopback never comes here (NO_PROXY), the rest is refused.
			refused(r.Host)
			http.Error(w, "entra-quickstart run: refused "+r.Host+": a rehearsal against the emulator stays on this machine (only CONNECT to the emulated hosts goes through this proxy)", http.StatusForbidden)
			return
		}
		host, port, err := net.SplitHostPort(r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		target := r.Host
		switch {
		case emuclient.IsEmulatedHost(host) && port == "443":
			target = emu
		case isLoopback(host):
		default:
			refused(r.Host)
			http.Error(w, "entra-quickstart run: refused "+r.Host+": a rehearsal against the emulator stays on this machine", http.StatusForbidden)
			return
		}
		up, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(r.Context(), "tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			up.Close()
			http.Error(w, "no hijacking", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
		down, buf, err := hj.Hijack()
		if err != nil {
			up.Close()
			return
		}
		go pipe(up, down, buf)
	})}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}

// pipe copies both ways until either side ends.
func pipe(up, down net.Conn, buf *bufio.ReadWriter) {
	defer up.Close()
	defer down.Close()
	done := make(chan struct{}, 2)
	go func() {
		if n := buf.Reader.Buffered(); n > 0 {
			b, _ := buf.Reader.Peek(n)
			_, _ = up.Write(b)
		}
		_, _ = io.Copy(up, down)
		done <- struct{}{}
	}()
	go func() { _, _ = io.Copy(down, up); done <- struct{}{} }()
	<-done
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
