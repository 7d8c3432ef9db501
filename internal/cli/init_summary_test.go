package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
)

// TestInitSaysHowTheCheckEnded: the end of init tells a failed sign-in check from a passed or a
// skipped one, in the summary and in --json, and names the command to run next against the
// same emulator. Graph /me refused (an injected 403) fails the check after the files are written.
// The folder is config-only output, so the summary also says how to get and run the sample.
func TestInitSaysHowTheCheckEnded(t *testing.T) {
	home(t)
	e, remote := remoteEmulator(t)
	dir := t.TempDir()
	initArgs := func(extra ...string) []string {
		return append(append([]string{"init", "--no-input", "--yes", "--sample", "flask-workforce", "--dir", dir, "--timeout", "45s"}, remote...), extra...)
	}
	verifyCmd := "entra-quickstart verify --dir " + shellQuote(dir) + " --emulator-url " + shellQuote(e.URL()) + " --ca-file " + shellQuote(e.CAFile()) + " --sample flask-workforce"
	doctorCmd := "entra-quickstart doctor --dir " + shellQuote(dir) + " --emulator-url "

	e.AddFault(emulator.Fault{Route: "graph.me.get", Kind: emulator.FaultStatus, Status: 403})
	code, out, errOut := run(t, initArgs("--auto-sign-in")...)
	if code != ExitError {
		t.Fatalf("failed check: exit %d, want 1\nstderr:\n%s", code, errOut)
	}
	for _, want := range []string{"The configuration was written, but the sign-in check failed.", "Graph /me: ", verifyCmd, doctorCmd,
		"git clone --depth 1 --branch main https://github.com/Azure-Samples/ms-identity-docs-code-python",
		"cp " + shellQuote(dir+"/.env") + " ms-identity-docs-code-python/flask-web-app/.env", "pip install -r requirements.txt", "entra-quickstart run", "while the emulator runs",
		".env holds the secret: git-ignore it there", "git check-ignore -v .env"} {
		if !strings.Contains(out, want) {
			t.Errorf("failed check: the summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Done") || strings.Contains(out, "passed") {
		t.Errorf("failed check: the summary says it went well:\n%s", out)
	}

	code, out, errOut = run(t, initArgs("--auto-sign-in", "--json")...)
	var res InitResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != ExitError {
		t.Fatalf("failed check --json: exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	var raw struct {
		Verify map[string]any `json:"verify"`
	}
	_ = json.Unmarshal([]byte(out), &raw)
	if res.OK || res.ExitCode != ExitError || res.SignInCheck != "failed" || !strings.HasPrefix(res.SignInCheckFailure, "Graph /me: ") ||
		len(res.Next) != 2 || !strings.HasPrefix(res.Next[0], verifyCmd) || res.Verify == nil || res.Verify.OK() ||
		raw.Verify["ok"] != false || raw.Verify["exit_code"] != float64(ExitError) {
		t.Fatalf("failed check --json: ok %v exit %d check %q failure %q next %q verify ok %v exit_code %v",
			res.OK, res.ExitCode, res.SignInCheck, res.SignInCheckFailure, res.Next, raw.Verify["ok"], raw.Verify["exit_code"])
	}

	e.SetFaults(emulator.FaultConfig{})
	code, out, errOut = run(t, initArgs("--auto-sign-in")...)
	if code != ExitOK || !strings.Contains(out, "Done. Sign-in check passed") || strings.Contains(out, verifyCmd) {
		t.Fatalf("passed check: exit %d\n%s\n%s", code, out, errOut)
	}

	code, out, errOut = run(t, initArgs("--no-verify")...)
	if code != ExitOK || !strings.Contains(out, "sign-in check was skipped") || !strings.Contains(out, "Run it with: "+verifyCmd) || !strings.Contains(out, "Get and run the sample") {
		t.Fatalf("--no-verify: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = run(t, initArgs("--no-verify", "--json")...)
	res = InitResult{}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != ExitOK || !res.OK || res.SignInCheck != "skipped" || res.Verify != nil ||
		len(res.Next) != 1 || res.Next[0] != verifyCmd {
		t.Fatalf("--no-verify --json: exit %d %v\n%s", code, err, out)
	}
}

// TestNoTerminalTeachesAccessible: without a terminal init asks nothing (flags double as prompts
// only where a person can answer them), and the error says --accessible asks on stdin instead.
func TestNoTerminalTeachesAccessible(t *testing.T) {
	home(t)
	for _, tc := range []struct {
		args       []string
		accessible bool
	}{
		{[]string{"init", "--emulator"}, true},
		{[]string{"init", "--sample", "node-workforce"}, true},
		{[]string{"init", "--emulator", "--no-input"}, false},
	} {
		code, _, errOut := run(t, tc.args...)
		if code != ExitUsage || strings.Contains(errOut, "--accessible") != tc.accessible {
			t.Errorf("%v: exit %d, stderr %q; want exit 2, --accessible named: %v", tc.args, code, errOut, tc.accessible)
		}
	}
}
