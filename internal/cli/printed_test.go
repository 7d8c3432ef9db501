package cli

// Issue 17: every command line the tool prints in the emulator journeys works when pasted, and
// the flags and diagnoses of items 2 and 6 hold through the built binary.

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/lab"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// printedRE finds an entra-quickstart command line in text: the command (and a lab step), then
// flags, each with its value when it has one (a shell word, single-quoted where needed). It
// stops at what is not a flag: the closing quote of "Run '…' first", a " (" or a backquote.
var printedRE = regexp.MustCompile(`entra-quickstart (?:init|verify|doctor|reset|list|lab (?:provision|status|reset))(?: --?[a-z][a-z-]*(?: (?:'(?:[^']|'\\'')*'|[^\s'` + "`" + `()-][^\s'` + "`" + `()]*))?)+`)

// printedCommands lists the command lines in text that name a flag (a bare mention such as
// "'entra-quickstart doctor' lists them" is prose, not a line to paste), each once.
func printedCommands(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range printedRE.FindAllString(text, -1) {
		c = strings.TrimRight(c, ".,;:")
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// shellWords splits a command line as a POSIX shell does for the forms shellQuote makes:
// words apart by spaces, '…' quoted, '\” a quote inside.
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, errors.New("unclosed quote in " + line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestPrintedCommandParsing(t *testing.T) {
	text := "Run 'entra-quickstart init --sample node-workforce --dir '/tmp/a b' --emulator-url https://127.0.0.1:1 --ca-file /x/ca.pem' first\n" +
		"      fix: entra-quickstart doctor --fix --dir /d --emulator (runs init for this folder again)\n" +
		"`entra-quickstart lab status --name ws --tenant 1`\n'entra-quickstart doctor' lists them"
	got := printedCommands(text)
	want := []string{
		"entra-quickstart init --sample node-workforce --dir '/tmp/a b' --emulator-url https://127.0.0.1:1 --ca-file /x/ca.pem",
		"entra-quickstart doctor --fix --dir /d --emulator",
		"entra-quickstart lab status --name ws --tenant 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("printedCommands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	w, err := shellWords(want[0])
	if err != nil || len(w) != 10 || w[5] != "/tmp/a b" {
		t.Fatalf("shellWords: %q %v", w, err)
	}
	if w, _ := shellWords(`a 'it'\''s'`); len(w) != 2 || w[1] != "it's" {
		t.Fatalf("shellWords quote: %q", w)
	}
}

// runPasted runs a printed command line as a person pasting it into a terminal would: in a
// pseudo-terminal, answering yes to a confirmation it asks. It returns the exit code and what
// the terminal showed.
func runPasted(t *testing.T, bin, home, line string, browser func(ctx context.Context, url string) error) (int, string) {
	t.Helper()
	words, err := shellWords(line)
	if err != nil || len(words) < 2 || words[0] != "entra-quickstart" {
		t.Fatalf("cannot parse the printed command %q: %v", line, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, words[1:]...)
	cmd.Env = append(os.Environ(), "ENTRA_QUICKSTART_HOME="+home, "TERM=xterm-256color", "NO_COLOR=1", "BROWSER=none")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	scr := &screen{}
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(scr, f); close(copied) }()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// A person at the terminal: every question answered with its default (Enter), a
	// confirmation with yes. A question is on screen when huh's key help shows and the
	// screen has stopped changing.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var werr error
	lastLen, still := -1, 0
	browsed := false
	openRE := regexp.MustCompile(`open this URL yourself: (\S+)`)
wait:
	for {
		select {
		case werr = <-done:
			break wait
		case <-tick.C:
			txt := scr.text()
			// The person at the browser: the sign-in check asks for one when none opens.
			if u := openRE.FindStringSubmatch(txt); u != nil && !browsed && browser != nil {
				browsed = true
				go func() {
					if err := browser(ctx, u[1]); err != nil {
						t.Errorf("signing in at %s: %v", u[1], err)
					}
				}()
			}
			if len(txt) != lastLen {
				lastLen, still = len(txt), 0
				continue
			}
			if still++; still != 4 {
				continue
			}
			tail := txt[max(0, len(txt)-400):]
			switch {
			case strings.Contains(tail, "Yes") && strings.Contains(tail, "No"):
				_, _ = f.Write([]byte("y"))
			case strings.Contains(tail, "enter"):
				_, _ = f.Write([]byte("\r"))
			}
		}
	}
	f.Close()
	select {
	case <-copied:
	case <-time.After(2 * time.Second):
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		code = ee.ExitCode()
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			code = 128 + int(st.Signal())
		}
	} else if werr != nil {
		t.Fatalf("%s: %v", line, werr)
	}
	return code, scr.text()
}

// TestEveryPrintedCommandWorks runs the emulator journeys against a standalone emulator (so that
// the tenant outlives each command), collects every entra-quickstart command line they print
// (summaries, doctor's fixes and "run init first", lab's checks and INDEX.md), and runs each as
// printed: it must succeed.
func TestEveryPrintedCommandWorks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built binary through every journey")
	}
	bin := buildBinary(t)
	e, remote := remoteEmulator(t)
	home := t.TempDir()
	m, err := samples.Lookup("node-workforce")
	if err != nil {
		t.Fatal(err)
	}
	co, err := checkout(t, m)
	if err != nil {
		t.Fatal(err)
	}
	// The repository's root, the sample in App/ inside it, as a clone has it.
	root := filepath.Join(t.TempDir(), "ms-identity-node")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(co, filepath.Join(root, filepath.FromSlash(m.Folder))); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(root, filepath.FromSlash(m.Folder))
	bare, err := checkout(t, m) // a checkout nobody configured
	if err != nil {
		t.Fatal(err)
	}

	// person signs the demo user in at the URL the sign-in check asks a person to open.
	user := demoPerson(t, e.Tenant(t, emuclient.Workforce))
	roots := e.Transport().TLSClientConfig.RootCAs
	person := func(ctx context.Context, url string) error {
		return emuclient.SignInThroughApp(ctx, emuclient.LoopbackBrowser(roots), url, emuclient.SignInOptions{Username: user.UserPrincipalName, Password: user.Password})
	}
	var all []string
	// pasted runs what a journey printed, as printed, at once (the next journey changes the
	// folder); lab reset waits for the end, since it removes what lab status checks.
	var last []string
	pasted := func(what, text string) {
		t.Helper()
		var cmds []string
		for _, line := range strings.Split(text, "\n") {
			// The app's notes (shown in the plan) are the app's own text in the tenant, read in
			// the admin center, not a next step of this run.
			if strings.Contains(line, "Made by entra-quickstart") {
				continue
			}
			cmds = append(cmds, printedCommands(line)...)
		}
		t.Logf("%s printed %d command(s)", what, len(cmds))
		for _, c := range cmds {
			all = append(all, c)
			if !strings.Contains(c, "--emulator-url "+shellQuote(e.URL())) || !strings.Contains(c, "--ca-file ") {
				t.Errorf("%s printed a command without the emulator's flags: %s", what, c)
			}
			if strings.Contains(c, " lab reset ") {
				last = append(last, c)
				continue
			}
			if code, out := runPasted(t, bin, home, c, person); code != ExitOK {
				t.Errorf("%s printed a command that failed (exit %d): %s\n%s", what, code, c, out)
			}
		}
	}
	runOK := func(want int, args ...string) string {
		t.Helper()
		r, err := runBinary(bin, home, nil, append(args, remote...)...)
		if err != nil || r.code != want {
			t.Fatalf("%v: exit %d (want %d) %v\n%s\n%s", args, r.code, want, err, r.stdout, r.stderr)
		}
		return r.stdout + "\n" + r.stderr
	}

	// init from the repository's root, the check skipped: the summary says how to run it.
	pasted("init --no-verify", runOK(ExitOK, "init", "--no-input", "--yes", "--sample", m.ID, "--dir", root, "--no-verify", "--auto-sign-in"))
	// init whose check fails: verify and doctor to run once fixed.
	e.AddFault(emulator.Fault{Route: "graph.me.get", Kind: emulator.FaultStatus, Status: 403})
	out := runOK(ExitError, "init", "--no-input", "--yes", "--sample", m.ID, "--dir", root, "--auto-sign-in", "--timeout", "45s")
	e.SetFaults(emulator.FaultConfig{})
	pasted("init, failed check", out)
	// doctor on a folder whose client secret is gone: its fix.
	emptySecret(t, app)
	pasted("doctor, secret missing", runOK(ExitError, "doctor", "--dir", root))
	// verify on it: doctor --fix.
	emptySecret(t, app)
	pasted("verify, secret missing", runOK(ExitError, "verify", "--dir", root, "--auto-sign-in"))
	// doctor on a folder nobody configured: run init first.
	pasted("doctor, not configured", runOK(ExitUsage, "doctor", "--dir", bare))
	// lab provision: the summary's check and reset, and INDEX.md's.
	labDir := filepath.Join(t.TempDir(), "ws")
	pasted("lab provision", runOK(ExitOK, "lab", "provision", "--no-input", "--yes", "--name", "ws", "--sample", m.ID, "--attendees", "2", "--dir", labDir))
	index, err := os.ReadFile(filepath.Join(labDir, lab.IndexMD))
	if err != nil {
		t.Fatal(err)
	}
	pasted("INDEX.md", string(index))

	kinds := map[string]bool{}
	for _, c := range all {
		w, _ := shellWords(c)
		kinds[w[1]] = true
	}
	for _, k := range []string{"init", "verify", "doctor", "lab"} {
		if !kinds[k] {
			t.Errorf("no printed %s command found among %q", k, all)
		}
	}
	for i, c := range last {
		if i > 0 {
			break // the lab is gone after the first
		}
		if code, out := runPasted(t, bin, home, c, person); code != ExitOK {
			t.Errorf("the printed command failed (exit %d): %s\n%s", code, c, out)
		}
	}
}

// demoPerson is a member of the tenant who is no admin, as --auto-sign-in picks one.
func demoPerson(t *testing.T, ti emuclient.TenantInfo) emuclient.UserInfo {
	t.Helper()
	for _, u := range ti.Users {
		if !u.Admin {
			return u
		}
	}
	t.Fatalf("the tenant %s has no member who is not an admin", ti.Domain)
	return emuclient.UserInfo{}
}

// emptySecret empties CLIENT_SECRET in the folder's .env, as a hand edit would.
func emptySecret(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, ".env")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^CLIENT_SECRET=.*$`)
	if !re.Match(b) {
		t.Fatalf("no CLIENT_SECRET in %s", p)
	}
	if err := os.WriteFile(p, re.ReplaceAll(b, []byte("CLIENT_SECRET=")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// setSecret puts another secret of the right shape into the folder's .env.
func setSecret(t *testing.T, dir, secret string) {
	t.Helper()
	p := filepath.Join(dir, ".env")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^CLIENT_SECRET=.*$`)
	if err := os.WriteFile(p, re.ReplaceAll(b, []byte("CLIENT_SECRET="+secret)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestIssue17FlagsAndDiagnoses is the table of issue 17's items 2 and 6 through the built
// binary against a standalone emulator: each case a command line, its exit code, and what its
// output must (and must not) say.
func TestIssue17FlagsAndDiagnoses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built binary")
	}
	bin := buildBinary(t)
	_, remote := remoteEmulator(t)
	home := t.TempDir()
	m, err := samples.Lookup("node-workforce")
	if err != nil {
		t.Fatal(err)
	}
	co, err := checkout(t, m)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "ms-identity-node")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(root, "App")
	if err := os.Rename(co, app); err != nil {
		t.Fatal(err)
	}
	wrong := "abc8Q~" + strings.Repeat("x", 34) // a secret's shape, one no app has
	labDir := filepath.Join(t.TempDir(), "ws")

	type tc struct {
		name   string
		before func(t *testing.T)
		args   []string
		code   int
		want   []string
		not    []string
		check  func(out string) string // "" when right, else what is wrong
	}
	// ownFlags checks that a lab step's help lists its flags under its own Flags heading.
	ownFlags := func(flags ...string) func(string) string {
		return func(out string) string {
			own, _, _ := strings.Cut(out, "Global Flags:")
			_, own, _ = strings.Cut(own, "\nFlags:")
			for _, f := range flags {
				if !strings.Contains(own, f) {
					return f + " is not under the step's own Flags heading"
				}
			}
			return ""
		}
	}
	cases := []tc{
		// Item 2.
		{name: "init --no-input without --yes refuses", args: []string{"init", "--no-input", "--sample", m.ID, "--dir", root},
			code: ExitUsage, want: []string{"--yes"}},
		{name: "reset --no-input without --yes refuses", args: []string{"reset", "--no-input"}, code: ExitUsage, want: []string{"--yes"}},
		{name: "lab provision --no-input without --yes refuses", args: []string{"lab", "provision", "--no-input", "--name", "ws", "-s", m.ID, "--attendees", "1"},
			code: ExitUsage, want: []string{"--yes"}},
		{name: "lab reset --no-input without --yes refuses", args: []string{"lab", "reset", "--no-input", "--name", "ws"}, code: ExitUsage, want: []string{"--yes"}},
		{name: "init --name and lab --name: one rule", args: []string{"init", "--no-input", "-y", "-s", m.ID, "--dir", root, "--name", "Team_A"},
			code: ExitUsage, want: []string{"must be 1-32 lower-case letters, digits, '.', '_' or '-'"}},
		{name: "lab --name: the same rule", args: []string{"lab", "provision", "--no-input", "-y", "--name", "Team_A", "-s", m.ID, "--attendees", "1"},
			code: ExitUsage, want: []string{"must be 1-32 lower-case letters, digits, '.', '_' or '-'"}},
		{name: "a name init and lab both take", args: []string{"init", "--no-input", "-y", "-s", m.ID, "--dir", root, "--name", "team.a", "--dry-run"}, code: ExitOK},
		{name: "--secret-lifetime in days, wrong form", args: []string{"init", "--no-input", "-y", "-s", m.ID, "--dir", root, "--secret-lifetime", "30 days"},
			code: ExitUsage, want: []string{"30d"}},
		{name: "--secret-lifetime beyond the maximum", args: []string{"lab", "provision", "--no-input", "-y", "--name", "ws", "-s", m.ID, "--attendees", "1", "--secret-lifetime", "800d"},
			code: ExitUsage, want: []string{"730d"}},
		{name: "init from the repository's root, short flags, 30d", args: []string{"init", "--no-input", "-y", "-s", m.ID, "-t", "workforce", "--dir", root, "--secret-lifetime", "30d", "--auto-sign-in", "--timeout", "45s"},
			code: ExitOK, want: []string{"Sign-in check passed", "expires " + time.Now().Add(30*24*time.Hour).UTC().Format(time.DateOnly)}},
		{name: "verify --dir the repository's root", args: []string{"verify", "--dir", root, "--auto-sign-in", "--timeout", "45s"}, code: ExitOK,
			not: []string{"none of .env"}},
		{name: "doctor --dir the repository's root", args: []string{"doctor", "--dir", root}, code: ExitOK},
		{name: "an unknown command exits 2 with the nearest", args: []string{"verfy"}, code: ExitUsage, want: []string{"did you mean 'entra-quickstart verify'"}},
		{name: "run, auth and emulator take no stray argument", args: []string{"run", "foo"}, code: ExitUsage, want: []string{"takes no arguments", "run --help"}},
		{name: "auth suggests its commands", args: []string{"auth", "logon"}, code: ExitUsage, want: []string{"did you mean 'entra-quickstart auth login'"}},
		{name: "a --dir that does not exist is named", args: []string{"run", "--dir", filepath.Join(root, "nope")}, code: ExitUsage, want: []string{"does not exist", "--dir"}},
		{name: "verify --dir that is a file", args: []string{"verify", "--dir", filepath.Join(app, "package.json")}, code: ExitUsage, want: []string{"is a file, not a folder"}},
		{name: "an unknown lab step exits 2 with the nearest", args: []string{"lab", "stauts"}, code: ExitUsage, want: []string{"'entra-quickstart lab status'"}},
		{name: "the unknown-sample error lists the samples", args: []string{"init", "--no-input", "-y", "-s", "nope"}, code: ExitUsage,
			want: []string{"node-workforce", "flask-external"}, not: []string{"list shows"}},
		{name: "completion of --sample", args: []string{"__complete", "init", "--sample", ""}, code: ExitOK, want: []string{"node-workforce", "aspnet-external"}},
		{name: "completion of --tenant-type", args: []string{"__complete", "reset", "--tenant-type", ""}, code: ExitOK, want: []string{"workforce", "external"}},
		{name: "completion of --credential", args: []string{"__complete", "lab", "provision", "--credential", ""}, code: ExitOK, want: []string{"secret", "certificate"}},
		{name: "completion of --cloud", args: []string{"__complete", "list", "--cloud", ""}, code: ExitOK, want: []string{"usgov", "china"}},
		{name: "completion of --auth", args: []string{"__complete", "doctor", "--auth", ""}, code: ExitOK, want: []string{"device-code", "azure-cli"}},
		{name: "help says days", args: []string{"init", "--help"}, code: ExitOK, want: []string{"-y, --yes", "-s, --sample", "-t, --tenant-type", "days (30d)"}},
		{name: "lab provision --help", args: []string{"lab", "provision", "--help"}, code: ExitOK, want: []string{"Examples:", "lab provision makes"},
			check: ownFlags("--name", "--yes", "--sample", "--attendees", "--secret-lifetime", "--auth")},
		{name: "lab status --help", args: []string{"lab", "status", "--help"}, code: ExitOK, want: []string{"Examples:", "lab status lists"},
			check: ownFlags("--name", "--dir", "--tenant-type", "--auth")},
		{name: "lab reset --help", args: []string{"lab", "reset", "--help"}, code: ExitOK, want: []string{"Examples:", "lab reset deletes"},
			check: ownFlags("--name", "--yes", "--tenant-type", "--auth")},
		// Item 6.
		{name: "an empty client secret: doctor names it and checks the rest",
			before: func(t *testing.T) { emptySecret(t, app) },
			args:   []string{"doctor", "--dir", root}, code: ExitError,
			want: []string{"the client secret is missing from .env", "redirect URI", "admin consent", "doctor --fix"},
			not:  []string{"placeholder", "Enter_the_Client_Secret_Here"}},
		{name: "verify on it names doctor --fix", args: []string{"verify", "--dir", root, "--auto-sign-in", "--timeout", "45s"}, code: ExitError,
			want: []string{"the client secret is missing from .env", "doctor --fix"}, not: []string{"placeholder"}},
		{name: "doctor --fix repairs it", args: []string{"doctor", "--dir", root, "--fix"}, code: ExitOK},
		{name: "a wrong secret: doctor says the app does not have it",
			before: func(t *testing.T) { setSecret(t, app, wrong) },
			args:   []string{"doctor", "--dir", root}, code: ExitError,
			want: []string{"this secret is not one the app has"}, not: []string{"has not reached the sign-in service"}},
		{name: "verify with it names doctor --fix", args: []string{"verify", "--dir", root, "--auto-sign-in", "--timeout", "45s"}, code: ExitError,
			want: []string{"doctor --fix"}},
		{name: "doctor --fix repairs the wrong secret", args: []string{"doctor", "--dir", root, "--fix"}, code: ExitOK},
		{name: "reset without --restore-files names the folder still holding the app's id", args: []string{"reset", "--no-input", "-y"}, code: ExitOK,
			want: []string{app + " still holds the deleted app's client id"}},
		{name: "init again", args: []string{"init", "--no-input", "-y", "-s", m.ID, "--dir", root, "--no-verify"}, code: ExitOK},
		{name: "reset --restore-files reports each file once", args: []string{"reset", "--no-input", "-y", "--restore-files"}, code: ExitOK,
			want: []string{filepath.Join(app, ".env")}, not: []string{"still holds"}},
		{name: "lab status of an unknown lab lists the known ones",
			before: func(t *testing.T) {
				if r, err := runBinary(bin, home, nil, append([]string{"lab", "provision", "--no-input", "-y", "--name", "ws", "-s", m.ID, "--attendees", "1", "--dir", labDir}, remote...)...); err != nil || r.code != 0 {
					t.Fatalf("lab provision: %v %d\n%s", err, r.code, r.stderr)
				}
			},
			args: []string{"lab", "status", "--name", "nope"}, code: ExitError, want: []string{"no lab nope", "the labs it knows: ws"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.before != nil {
				c.before(t)
			}
			args := c.args
			if len(args) > 0 && args[0] != "__complete" && !slicesHas(args, "--help") && args[0] != "verfy" && !(args[0] == "lab" && args[1] == "stauts") {
				args = append(append([]string(nil), args...), remote...)
			}
			r, err := runBinary(bin, home, nil, args...)
			if err != nil {
				t.Fatal(err)
			}
			out := r.stdout + r.stderr
			if r.code != c.code {
				t.Errorf("exit %d, want %d\n%s", r.code, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("the output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range c.not {
				if strings.Contains(out, n) {
					t.Errorf("the output says %q:\n%s", n, out)
				}
			}
			if c.check != nil {
				if msg := c.check(out); msg != "" {
					t.Errorf("%s:\n%s", msg, out)
				}
			}
			if c.name == "reset --restore-files reports each file once" {
				for _, line := range strings.Split(r.stdout, "\n") {
					if line != "" && strings.Count(r.stdout, line+"\n") > 1 {
						t.Errorf("reported twice: %q\n%s", line, r.stdout)
					}
				}
			}
		})
	}
}

func slicesHas(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
