package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
	"github.com/entra-quickstart/entra-quickstart/internal/verify"
)

func TestRuntimeOf(t *testing.T) {
	for cmd, want := range map[string]Runtime{
		"npm start": Node, "node server.js": Node, "flask --debug run --host=localhost --port=5000": Python,
		"python manage.py runserver localhost:5000": Python, "python3 app.py": Python, "dotnet run": DotNet,
		"/usr/bin/node x.js": Node, "": Unknown, "make run": Unknown,
	} {
		if got := RuntimeOf(cmd); got != want {
			t.Errorf("RuntimeOf(%q) = %q, want %q", cmd, got, want)
		}
	}
}

// script is a program for each runtime, written to a folder, and the command that runs it.
type script struct {
	name    string
	file    string
	command string
	source  string
}

func writeScript(t *testing.T, s script) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, s.file), []byte(s.source), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runtimes returns the Node and Python programs of a test, skipping (or failing under CI) when
// the runtime is missing; the Python one runs on Debian's python3.
func runtimes(t *testing.T, node, python string) []script {
	_, nodeBin := testenv.NodeDir(t)
	py := testenv.Python(t)
	return []script{
		{"node", "main.js", nodeBin + " main.js", node},
		{"python", "main.py", py + " main.py", python},
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRoutesEmulatedHostsAndRefusesTheRest: against the emulator, a sample's own https call to
// login.microsoftonline.com reaches the emulator (its CA trusted, the real name checked), and a
// connection to any other address is refused, reported and seen on the sample's stderr.
func TestRoutesEmulatedHostsAndRefusesTheRest(t *testing.T) {
	e := emulatortest.New(t)
	const discovery = "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
	for _, s := range runtimes(t, `
const https = require('https');
https.get('`+discovery+`', (res) => {
  let body = '';
  res.on('data', (d) => { body += d; });
  res.on('end', () => {
    console.log('discovery', res.statusCode, body.includes('tenant_discovery_endpoint'));
    try {
      https.get('https://192.0.2.1/', () => console.log('reached')).on('error', (err) => console.log('blocked', err.code));
    } catch (err) {
      console.log('blocked', err.code);
    }
    // Plain http goes through http.Agent's own reference to net.createConnection.
    try {
      require('http').get('http://192.0.2.2/', () => console.log('reached')).on('error', (err) => console.log('blocked', err.code));
    } catch (err) {
      console.log('blocked', err.code);
    }
  });
}).on('error', (err) => { console.log('discovery failed', err.message); process.exit(1); });
`, `
import socket, urllib.request
with urllib.request.urlopen("`+discovery+`") as r:
    print("discovery", r.status, str(b"tenant_discovery_endpoint" in r.read()).lower())
try:
    socket.create_connection(("192.0.2.1", 443), timeout=5)
    print("reached")
except ConnectionRefusedError as e:
    print("blocked", e)
try:
    urllib.request.urlopen("http://192.0.2.2/", timeout=5)
    print("reached")
except Exception as e:
    print("blocked", e)
`) {
		t.Run(s.name, func(t *testing.T) {
			dir := writeScript(t, s)
			var out, errOut testkit.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := Run(ctx, Options{Dir: dir, Command: s.command, RedirectURI: fmt.Sprintf("http://localhost:%d/cb", freePort(t)),
				Emulator: &Emulator{URL: e.URL(), Addr: e.Addr(), CAFile: e.CAFile()}, Env: os.Environ(), Stdout: &out, Stderr: &errOut, Poll: 20 * time.Millisecond})
			if err != nil {
				t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), "discovery 200 true") {
				t.Errorf("the emulated host was not reached through the emulator:\n%s\n%s", out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), "blocked") || strings.Contains(out.String(), "reached") {
				t.Errorf("the connection to 192.0.2.1 was not refused:\n%s", out.String())
			}
			if !strings.Contains(errOut.String(), "refused a connection to 192.0.2.1:443") {
				t.Errorf("the refusal is not on the sample's stderr:\n%s", errOut.String())
			}
			if !slices.Contains(res.Refused, "192.0.2.1:443") || !slices.Contains(res.Refused, "192.0.2.2:80") {
				t.Errorf("Refused = %v, want 192.0.2.1:443 and 192.0.2.2:80 (plain http)", res.Refused)
			}
		})
	}
}

// TestWatchesTheCallback: what the sample's own server answered at the redirect URI's path is
// reported, an error with the sign-in check's diagnosis.
func TestWatchesTheCallback(t *testing.T) {
	port := freePort(t)
	const q = "error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent+to+access+the+app."
	for _, s := range runtimes(t, `
const http = require('http');
const server = http.createServer((req, res) => { res.statusCode = req.url.startsWith('/cb') ? 400 : 200; res.end('ok'); });
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  http.get('http://127.0.0.1:' + process.env.PORT + '/cb?`+q+`', (res) => {
    res.resume();
    res.on('end', () => http.get('http://127.0.0.1:' + process.env.PORT + '/cb?code=abc&state=x', (r2) => { r2.resume(); r2.on('end', () => server.close()); }));
  });
});
`, `
import http.server, os, threading, urllib.request, urllib.error
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(400 if self.path.startswith("/cb") else 200)
        self.end_headers()
        self.wfile.write(b"ok")
srv = http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
for path in ["/cb?`+q+`", "/cb?code=abc&state=x"]:
    try:
        urllib.request.urlopen("http://127.0.0.1:%s%s" % (os.environ["PORT"], path))
    except urllib.error.HTTPError:
        pass
srv.shutdown()
`) {
		t.Run(s.name, func(t *testing.T) {
			dir := writeScript(t, s)
			var errOut testkit.Buffer
			res, err := Run(context.Background(), Options{Dir: dir, Command: s.command, RedirectURI: fmt.Sprintf("http://localhost:%d/cb", port),
				Env: append(os.Environ(), fmt.Sprintf("PORT=%d", port)), Stderr: &errOut, Poll: 20 * time.Millisecond})
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			var cbs []Event
			for _, e := range res.Events {
				if e.Kind == Callback {
					cbs = append(cbs, e)
				}
			}
			if len(cbs) != 2 {
				t.Fatalf("callbacks reported: %+v\nstderr:\n%s", cbs, errOut.String())
			}
			if cbs[0].Status != verify.Failed || cbs[0].Diagnosis == nil || cbs[0].Diagnosis.Code != "AADSTS65004" {
				t.Errorf("the error callback: %+v (diagnosis %+v), want failed with AADSTS65004", cbs[0], cbs[0].Diagnosis)
			}
			// A code the sample answered with 400: it failed to sign the person in.
			if cbs[1].Status != verify.Failed || !strings.Contains(cbs[1].Detail, "answered 400") {
				t.Errorf("the code callback answered 400: %+v", cbs[1])
			}
		})
	}
}

// TestStopEndsTheSampleAndWhatItStarted: the context's end interrupts the sample's process
// group (npm's node, Flask's reloader child), and Run says it stopped it.
func TestStopEndsTheSampleAndWhatItStarted(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	if err := os.WriteFile(filepath.Join(dir, "main.sh"), []byte("sleep 300 &\necho $! > "+pidFile+"\nwait\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Options{Dir: dir, Command: "/bin/sh main.sh", Env: os.Environ(), StopGrace: 5 * time.Second, Poll: 20 * time.Millisecond})
		done <- err
	}()
	var child int
	for deadline := time.Now().Add(30 * time.Second); child == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(pidFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			fmt.Sscan(string(b), &child)
		}
	}
	if child == 0 {
		t.Fatal("the script never started its child")
	}
	cancel(errors.New("Ctrl-C"))
	err := <-done
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("Run = %v, want ErrStopped", err)
	}
	// The grandchild ended too: the interrupt reached the group, and the kill after the grace
	// (a non-interactive shell's background job ignores SIGINT) ended what ignored it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(child, 0) != nil {
			break
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(child, syscall.SIGKILL)
			t.Fatal("the sample's child outlived the stop")
		}
	}
}

func TestMissingProgram(t *testing.T) {
	for command, next := range map[string]string{
		"no-such-program-here start": "install steps",
		"flask --debug run":          "source .venv/bin/activate",
		"npm start":                  "npm install",
	} {
		_, err := Run(context.Background(), Options{Dir: t.TempDir(), Command: command, Env: []string{"PATH=" + t.TempDir()}})
		if err == nil || !strings.Contains(err.Error(), "not installed or not on PATH") || !strings.Contains(err.Error(), next) {
			t.Errorf("%s: err = %v; want it not found, and %q as the next step", command, err, next)
		}
	}
}

// TestCodeNeverRedeemed: a callback with a code that the sample answered well, but no token
// request in the emulator's log afterwards (the identity package catches a failed redemption
// and redirects home): reported as a failed code exchange.
func TestCodeNeverRedeemed(t *testing.T) {
	e := emulatortest.New(t)
	py := testenv.Python(t)
	port := freePort(t)
	dir := writeScript(t, script{file: "main.py", source: `
import http.server, os, threading, time, urllib.request
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", "/")
        self.end_headers()
srv = http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
try:
    urllib.request.build_opener(NoRedirect).open("http://127.0.0.1:%s/cb?code=abc&state=x" % os.environ["PORT"])
except Exception:
    pass
time.sleep(3)
srv.shutdown()
`})
	res, err := Run(context.Background(), Options{Dir: dir, Command: py + " main.py", RedirectURI: fmt.Sprintf("http://localhost:%d/cb", port),
		Emulator: &Emulator{URL: e.URL(), Addr: e.Addr(), CAFile: e.CAFile(), AdminToken: e.Info().AdminToken},
		Env:      append(os.Environ(), fmt.Sprintf("PORT=%d", port)), Poll: 20 * time.Millisecond, RedeemWait: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var callback, unredeemed bool
	for _, ev := range res.Events {
		callback = callback || (ev.Kind == Callback && ev.Status == verify.Passed)
		unredeemed = unredeemed || (ev.Kind == Redeemed && ev.Status == verify.Failed && strings.Contains(ev.Detail, "did not redeem"))
	}
	if !callback || !unredeemed {
		t.Errorf("events %+v: want a passed callback and a code never redeemed", res.Events)
	}
}
