package verify

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
)

// freePort finds a loopback port nobody uses right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// localURIs are a sample's loopback URIs on a free port (node-style paths by default).
func localURIs(t *testing.T, scheme string) (redirect, postLogout, front string) {
	p := strconv.Itoa(freePort(t))
	base := scheme + "://localhost:" + p
	return base + "/auth/redirect", base + "/", base + "/signout-callback-oidc"
}

// events collects Progress events.
type events struct{ testkit.Log[Event] }

func (e *events) notices() string {
	var b strings.Builder
	for _, ev := range e.All() {
		if ev.Kind == EventNotice {
			b.WriteString(ev.Message + "\n")
		}
	}
	return b.String()
}

// runWith runs a journey whose "browser" is drive (called with the start URL in a goroutine).
// It returns the report, Run's error, the events and drive's error.
func runWith(t *testing.T, cfg Config, opts Options, drive func(ctx context.Context, start string) error) (Report, error, *events, error) {
	t.Helper()
	ev := &events{}
	driveErr := make(chan error, 1)
	opts.Progress = ev.Add
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.CertDir == "" {
		opts.CertDir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The browser lives outside the run: it does not stop when Run returns.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	opts.OpenBrowser = func(_ context.Context, u string) error {
		go func() {
			err := drive(ctx, u)
			if err != nil {
				stop() // a failed drive will not finish the journey: don't wait for the timeout
			}
			driveErr <- err
		}()
		return nil
	}
	rep, err := Run(runCtx, cfg, opts)
	var derr error
	select {
	case derr = <-driveErr:
	case <-time.After(10 * time.Second):
		derr = context.DeadlineExceeded
	}
	return rep, err, ev, derr
}

// statuses is the report's step statuses as "step=status" pairs, for compact assertions.
func statuses(r Report) string {
	var parts []string
	for _, s := range r.Steps {
		parts = append(parts, string(s.Step)+"="+string(s.Status))
	}
	return strings.Join(parts, " ")
}

func stringsContains(s, sub string) bool { return strings.Contains(s, sub) }
