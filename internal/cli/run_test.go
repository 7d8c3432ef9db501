package cli

// The run command against the libraries the samples use: a sample-shaped Express app on
// msal-node (testdata/node/sample-app) and the identity package's Flask and Django integrations
// on MSAL Python (testdata/python, from the hash-pinned lock), each configured by init against
// an emulator, started by the real binary's `run` (found through the running state a standalone
// emulator writes), signed in by a scripted browser, calling Graph /me and signing out, with
// nothing reaching any address but loopback: the preload and the sitecustomize refuse any other
// and the test fails on a refusal in the run's output. Ctrl-C ends it with exit code 130.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/emustate"
	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// pythonVenv is the venv scripts/test-deps.sh makes from testdata/python/requirements.lock.
func pythonVenv(t *testing.T) string {
	t.Helper()
	venv := filepath.Join(testenv.RepoRoot(), "testdata", "python", ".venv")
	if _, err := os.Stat(filepath.Join(venv, "bin", "flask")); err != nil {
		testenv.Missing(t, "the Python samples' libraries in testdata/python/.venv", "scripts/test-deps.sh")
	}
	return venv
}

// copyTree copies src into dst (files only, overwriting).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == "__pycache__" || d.Name() == "flask_session" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// authorizeHref finds the sign-in URL on the identity package's login page (its link, or its
// meta refresh).
var authorizeHref = regexp.MustCompile(`(?:href=['"]|URL=)([^'"]*/oauth2/v2\.0/authorize[^'"]*)['"]`)

func TestRunSamplesAgainstEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the samples' runtimes")
	}
	cases := []struct {
		sample string
		app    string // testdata folder shaped like the sample
		me     string // the app's page that calls Graph /me
		env    []string
		// builtin: init --emulator and run --emulator (the built-in emulator, started by run
		// again for the sample), instead of a standalone emulator found by its running state.
		builtin bool
	}{
		{"node-workforce", "node/sample-app", "/users/profile", nil, false},
		{"node-external", "node/sample-app", "/users/profile", nil, false},
		{"flask-workforce", "python/flask-app", "/call_api", nil, false},
		// The External ID Python samples call no API unless SCOPE and ENDPOINT are set; the test
		// sets them in the environment (dotenv never overrides it), to Graph under its real name.
		{"flask-external", "python/flask-app", "/call_api", []string{"SCOPE=User.Read", "ENDPOINT=https://graph.microsoft.com/v1.0/me"}, false},
		{"django-external", "python/django-app", "/call_api", []string{"SCOPE=User.Read", "ENDPOINT=https://graph.microsoft.com/v1.0/me"}, false},
		{"node-workforce", "node/sample-app", "/users/profile", nil, true},
	}
	var venv, nodeModules string
	for _, c := range cases {
		if strings.HasPrefix(c.app, "python/") && venv == "" {
			venv = pythonVenv(t)
		}
		if strings.HasPrefix(c.app, "node/") && nodeModules == "" {
			d, _ := testenv.NodeDir(t)
			nodeModules = filepath.Join(d, "node_modules")
		}
	}
	bin := buildBinary(t)
	for _, c := range cases {
		name := c.sample
		if c.builtin {
			name += "/built-in"
		}
		t.Run(name, func(t *testing.T) {
			m, err := samples.Lookup(c.sample)
			if err != nil {
				t.Fatal(err)
			}
			e := emulatortest.New(t)
			home := t.TempDir()
			// What a standalone `entra-quickstart emulator` records while it runs.
			if _, err := emustate.Write(filepath.Join(home, emustate.Folder), emustate.Running{URL: e.URL(), Addr: e.Addr(), CAFile: e.CAFile(),
				AdminTokenFile: filepath.Join(filepath.Dir(e.CAFile()), emuclient.AdminTokenFile), PID: os.Getpid(), Started: time.Now()}); err != nil {
				t.Fatal(err)
			}
			dir, err := checkout(t, m)
			if err != nil {
				t.Fatal(err)
			}
			copyTree(t, filepath.Join(testenv.RepoRoot(), "testdata", filepath.FromSlash(c.app)), dir)
			env := os.Environ()
			if nodeModules != "" && strings.HasPrefix(c.app, "node/") {
				if err := os.Symlink(nodeModules, filepath.Join(dir, "node_modules")); err != nil {
					t.Fatal(err)
				}
			}
			if strings.HasPrefix(c.app, "python/") {
				// As `source .venv/bin/activate` leaves it.
				env = append(env, "PATH="+filepath.Join(venv, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"), "VIRTUAL_ENV="+venv)
			}
			env = append(env, c.env...)

			target := []string{"--emulator-url", e.URL(), "--ca-file", e.CAFile()}
			runArgs := []string{"run", "--dir", dir} // the sample found by what init recorded
			if c.builtin {
				target = []string{"--emulator"}
				runArgs = append(runArgs, "--emulator")
			}
			r, err := runBinary(bin, home, nil, append([]string{"init", "--sample", c.sample, "--dir", dir, "--no-input", "--yes", "--no-verify"}, target...)...)
			if err != nil || r.code != 0 {
				t.Fatalf("init: %v, exit %d\n%s", err, r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "entra-quickstart run") {
				t.Errorf("init's summary does not say to start the sample with entra-quickstart run:\n%s", r.stdout)
			}
			if c.sample == "django-external" {
				mig := exec.Command(filepath.Join(venv, "bin", "python"), "manage.py", "migrate") // the sample's install step
				mig.Dir, mig.Env = dir, env
				if out, err := mig.CombinedOutput(); err != nil {
					t.Fatalf("manage.py migrate: %v\n%s", err, out)
				}
			}

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			// The sample's port is fixed by its redirect URI; another test (the sign-in check's
			// server) may hold it for a moment.
			waitPortFree(ctx, t, m.Port)
			run := exec.Command(bin, runArgs...)
			run.Env = append(env, "ENTRA_QUICKSTART_HOME="+home, "NO_COLOR=1")
			var stdout, stderr testkit.Buffer
			run.Stdout, run.Stderr = &stdout, &stderr
			if err := run.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- run.Wait() }()
			stopped := false
			defer func() {
				if !stopped {
					// Ctrl-C, so that run stops the sample's process group; a kill would leave
					// the sample running on its port.
					_ = run.Process.Signal(os.Interrupt)
					select {
					case <-exited:
					case <-time.After(15 * time.Second):
						_ = run.Process.Kill()
						<-exited
					}
				}
				if t.Failed() || testing.Verbose() {
					t.Logf("run's stderr:\n%s\nrun's stdout:\n%s", stderr.String(), stdout.String())
				}
			}()
			waitFor := func(what string) {
				t.Helper()
				for !strings.Contains(stderr.String(), what) {
					select {
					case err := <-exited:
						stopped = true
						t.Fatalf("run ended (%v) before %q", err, what)
					case <-ctx.Done():
						t.Fatalf("no %q in run's output", what)
					case <-time.After(50 * time.Millisecond):
					}
				}
			}
			waitFor("Listening:")

			info, roots := e.Info(), e.CAPool()
			if c.builtin {
				info, roots = builtinEmulator(ctx, t, home)
			}
			ti, _ := info.Tenant(emuclient.TenantType(m.TenantType))
			user := ti.Users[0]
			browser := emuclient.LoopbackBrowser(roots)
			app := strings.TrimRight(m.AppURL, "/")
			signInThroughSample(ctx, t, browser, app, emuclient.SignInOptions{Username: user.UserPrincipalName, Password: user.Password})
			page := get(ctx, t, browser, app+c.me)
			if !strings.Contains(html.UnescapeString(page), user.UserPrincipalName) {
				t.Fatalf("the sample's Graph page does not show %s:\n%s", user.UserPrincipalName, page)
			}
			signOutThroughSample(ctx, t, browser, app, page, info.URL)
			waitFor("Sign-out:")
			waitFor("Graph /me:")

			// Ctrl-C: the sample stops and run ends with 130.
			if err := run.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
				stopped = true
			case <-ctx.Done():
				t.Fatal("run did not end after Ctrl-C")
			}
			if code := exitCode(run.ProcessState); code != ExitInterrupted {
				t.Errorf("exit code after Ctrl-C %d, want %d", code, ExitInterrupted)
			}
			out := stderr.String()
			for _, want := range []string{"✓ Callback:", "✓ Code exchange:", "✓ Graph /me:", "✓ Sign-out:"} {
				if !strings.Contains(out, want) {
					t.Errorf("run's output lacks %q", want)
				}
			}
			for _, bad := range []string{"refused a connection", "Left this machine", "✗"} {
				if strings.Contains(out, bad) {
					t.Errorf("run's output has %q: the sample tried to leave loopback or a step failed", bad)
				}
			}
		})
	}
}

// builtinEmulator is the info and CA of the built-in emulator run --emulator started, read as
// its files in the config folder hold them.
func builtinEmulator(ctx context.Context, t *testing.T, home string) (emuclient.Info, *x509.CertPool) {
	t.Helper()
	dir := filepath.Join(home, "emulator")
	pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	port, err := os.ReadFile(filepath.Join(dir, "port"))
	if err != nil {
		t.Fatal(err)
	}
	token, err := emuclient.ReadAdminToken(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	info, err := emuclient.FetchInfo(ctx, c, "https://localhost:"+strings.TrimSpace(string(port)), token)
	if err != nil {
		t.Fatal(err)
	}
	return *info, roots
}

// waitPortFree waits until nothing listens on the loopback port.
func waitPortFree(ctx context.Context, t *testing.T, port int) {
	t.Helper()
	for {
		busy := false
		for _, h := range []string{"127.0.0.1", "::1"} {
			if c, err := net.DialTimeout("tcp", net.JoinHostPort(h, fmt.Sprint(port)), time.Second); err == nil {
				c.Close()
				busy = true
			}
		}
		if !busy {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("port %d stays busy", port)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func exitCode(ps *os.ProcessState) int {
	if st, ok := ps.Sys().(syscall.WaitStatus); ok && st.Signaled() {
		return 128 + int(st.Signal())
	}
	return ps.ExitCode()
}

// get fetches a page as the browser does, following redirects; a status of 400 or more fails.
func get(ctx context.Context, t *testing.T, c *http.Client, u string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		t.Fatalf("GET %s: %s\n%s", u, resp.Status, b)
	}
	return string(b)
}

// nextHop fetches u without following a redirect: where it redirects, or "" and the page.
func nextHop(ctx context.Context, t *testing.T, c *http.Client, u string) (string, string) {
	t.Helper()
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := nc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		t.Fatalf("GET %s: %s\n%s", u, resp.Status, b)
	}
	loc, err := resp.Location()
	if err != nil {
		return "", string(b)
	}
	return loc.String(), string(b)
}

// signInThroughSample opens the sample, follows it to the emulator's sign-in page (through a
// "signin" link or the identity package's login page), signs in there and brings the answer
// back to the sample, as a browser does.
func signInThroughSample(ctx context.Context, t *testing.T, c *http.Client, app string, opts emuclient.SignInOptions) {
	t.Helper()
	u := app + "/"
	for hops := 0; ; hops++ {
		if hops > 10 {
			t.Fatal("the sample never sent the browser to the emulator's sign-in page")
		}
		next, page := nextHop(ctx, t, c, u)
		if next == "" {
			switch {
			case authorizeHref.MatchString(page):
				next = html.UnescapeString(authorizeHref.FindStringSubmatch(page)[1])
			case regexp.MustCompile(`id="signin" href="([^"]+)"`).MatchString(page):
				next = regexp.MustCompile(`id="signin" href="([^"]+)"`).FindStringSubmatch(page)[1]
			default:
				t.Fatalf("no way to sign in on %s:\n%s", u, page)
			}
		}
		nu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := nu.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		u = ref.String()
		if strings.Contains(ref.Path, "/oauth2/v2.0/authorize") {
			break
		}
	}
	arrival, err := emuclient.SignIn(ctx, c, u, opts)
	if err != nil {
		t.Fatalf("sign-in at the emulator: %v", err)
	}
	var body io.Reader
	if arrival.Method == http.MethodPost {
		body = strings.NewReader(arrival.Form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, arrival.Method, arrival.URL.String(), body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("the answer to the sample: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 400 || !strings.Contains(string(b), `id="signout"`) {
		t.Fatalf("the sample did not sign the person in (%s):\n%s", resp.Status, b)
	}
}

// signOutThroughSample follows the sample's "signout" link to the emulator's end-session
// endpoint, signs out there and comes back to the sample.
func signOutThroughSample(ctx context.Context, t *testing.T, c *http.Client, app, page, emulatorURL string) {
	t.Helper()
	m := regexp.MustCompile(`id="signout" href="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no signout link on:\n%s", page)
	}
	u := app + html.UnescapeString(m[1])
	for hops := 0; ; hops++ {
		if hops > 10 {
			t.Fatal("the sample's sign-out never reached the emulator's end-session endpoint")
		}
		if strings.HasPrefix(u, emulatorURL) || strings.Contains(u, "login.microsoftonline.com") || strings.Contains(u, ".ciamlogin.com") {
			break
		}
		next, body := nextHop(ctx, t, c, u)
		if next == "" {
			t.Fatalf("the sample's sign-out stopped at %s, short of the emulator's end-session endpoint:\n%s", u, body)
		}
		base, _ := url.Parse(u)
		ref, err := base.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		u = ref.String()
	}
	back, err := emuclient.SignOut(ctx, c, u)
	if err != nil {
		t.Fatalf("sign-out at the emulator (%s): %v", u, err)
	}
	if back == nil {
		t.Fatalf("the emulator kept the browser on its signed-out page instead of returning to the sample (%s)", u)
	}
	if !strings.HasPrefix(back.String(), app) {
		t.Fatalf("sign-out returned to %s, not to the sample", back)
	}
}

// TestRunSaysWhenTheEmulatorIsNotRunning: a sample configured for an emulator that stopped gets
// no start: run names the emulator and how to start it again (with its data file, from the
// running state it left), or run --emulator for the built-in one.
func TestRunSaysWhenTheEmulatorIsNotRunning(t *testing.T) {
	home := t.TempDir()
	t.Setenv("ENTRA_QUICKSTART_HOME", home)
	e, m, dir := seededCheckout(t, emulatortest.Seed(t), "node-workforce")
	s, _, errOut := ui.Test("")
	if code := Main(context.Background(), []string{"init", "--emulator-url", e.URL(), "--ca-file", e.CAFile(), "--sample", m.ID,
		"--dir", dir, "--no-input", "--yes", "--no-verify"}, s); code != ExitOK {
		t.Fatalf("init: exit %d\n%s", code, errOut)
	}
	_, port, _ := net.SplitHostPort(e.Addr())
	stale := emustate.Running{URL: e.URL(), Addr: "127.0.0.1:1", CAFile: e.CAFile(), DataFile: "/srv/rehearsal.json", PID: 1}
	if _, err := emustate.Write(filepath.Join(home, emustate.Folder), stale); err != nil {
		t.Fatal(err)
	}
	s, _, errOut = ui.Test("")
	if code := Main(context.Background(), []string{"run", "--dir", dir}, s); code != ExitError {
		t.Fatalf("run: exit %d, want %d\n%s", code, ExitError, errOut)
	}
	want := "entra-quickstart emulator --listen 127.0.0.1:" + port + " --data /srv/rehearsal.json"
	if !strings.Contains(errOut.String(), "which is not running") || !strings.Contains(errOut.String(), want) {
		t.Errorf("run's error does not say the emulator is not running and %q:\n%s", want, errOut)
	}
	// The built-in emulator's port: run --emulator.
	if err := os.MkdirAll(filepath.Join(home, "emulator"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "emulator", "port"), []byte(port+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _, errOut = ui.Test("")
	if code := Main(context.Background(), []string{"run", "--dir", dir}, s); code != ExitError {
		t.Fatalf("run: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut.String(), "entra-quickstart run --emulator") {
		t.Errorf("run's error does not suggest run --emulator for the built-in emulator:\n%s", errOut)
	}
}
