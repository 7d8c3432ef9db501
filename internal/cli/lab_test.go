package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/lab"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// Flags are checked before anything signs in, with the flag's name and exit code 2.
func TestLabUsageErrors(t *testing.T) {
	t.Setenv("ENTRA_QUICKSTART_HOME", t.TempDir())
	roster := filepath.Join(t.TempDir(), "r.csv")
	if err := os.WriteFile(roster, []byte("# nobody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lab", "provision", "--emulator", "--sample", "node-workforce", "--attendees", "2"}, "--name is required"},
		{[]string{"lab", "provision", "--emulator", "--name", "Bad Name", "--sample", "node-workforce", "--attendees", "2"}, "--name"},
		{[]string{"lab", "provision", "--emulator", "--name", "ws", "--attendees", "2"}, "--sample is required"},
		{[]string{"lab", "provision", "--emulator", "--name", "ws", "--sample", "nope", "--attendees", "2"}, "nope"},
		{[]string{"lab", "provision", "--emulator", "--name", "ws", "--sample", "node-workforce"}, "--attendees N or --roster"},
		{[]string{"lab", "provision", "--emulator", "--name", "ws", "--sample", "node-workforce", "--attendees", "2", "--roster", roster}, "exclude each other"},
		{[]string{"lab", "provision", "--emulator", "--name", "ws", "--sample", "node-workforce", "--roster", roster}, "lists nobody"},
		{[]string{"lab", "provision", "--emulator", "--name", "ws", "--sample", "node-workforce", "--attendees", "2", "--credential", "certificate"}, "supports"},
		{[]string{"lab", "provision", "--emulator", "--name", "ws", "--sample", "node-workforce", "--attendees", "2"}, "pass --yes"},
		{[]string{"lab", "reset", "--emulator", "--name", "ws", "--no-input"}, "needs --yes"},
		{[]string{"lab", "status", "--emulator"}, "--name is required"},
	} {
		code, _, stderr := run(t, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming %q", tc.args[1:], code, stderr, tc.want)
		}
	}
}

// The workshop from the command line against the built-in emulator: provision from a roster
// (--json has ids and paths, never a secret), status finds the folder by itself, a re-run
// touches nothing, reset removes the lab's apps.
func TestLabCommands(t *testing.T) {
	home := t.TempDir()
	t.Setenv("ENTRA_QUICKSTART_HOME", home)
	work := t.TempDir()
	roster := filepath.Join(work, "room.csv")
	if err := os.WriteFile(roster, []byte("name,email\nAda Lovelace,ada@contoso.com\nGrace Hopper,grace@contoso.com\nAlan Turing,alan@contoso.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "out")
	args := []string{"lab", "provision", "--emulator", "--no-input", "--yes", "--json", "--name", "ws", "--sample", "flask-external", "--roster", roster, "--dir", dir}
	code, stdout, stderr := run(t, args...)
	if code != ExitOK {
		t.Fatalf("lab provision: exit %d\n%s", code, stderr)
	}
	var rep lab.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if rep.Created != 3 || len(rep.Attendees) != 3 || rep.Attendees[0].ID != "ada-lovelace" || rep.TenantType != "external" {
		t.Fatalf("report: %+v", rep)
	}
	m, _ := samples.Lookup("flask-external")
	for _, a := range rep.Attendees {
		c, err := templates.Read(m, filepath.Join(dir, a.ID, "config"))
		if err != nil || c.ClientID != a.ClientID || c.ClientSecret == "" {
			t.Fatalf("%s: bundle reads back %+v, %v", a.ID, c, err)
		}
		if strings.Contains(stdout+stderr, c.ClientSecret) {
			t.Fatalf("a secret reached the terminal")
		}
	}
	if !strings.Contains(stderr, "ada-lovelace (") {
		t.Errorf("no plain progress line per attendee on stderr:\n%s", stderr)
	}

	code, stdout, stderr = run(t, "lab", "status", "--emulator", "--name", "ws")
	if code != ExitOK || strings.Count(stdout, "works") != 3 || !strings.Contains(stdout, "Grace Hopper") {
		t.Fatalf("lab status: exit %d\n%s\n%s", code, stdout, stderr)
	}

	code, stdout, _ = run(t, append(args[:len(args):len(args)], "--yes")...)
	if code != ExitOK || !strings.Contains(stdout, `"skipped": 3`) {
		t.Fatalf("the re-run: exit %d\n%s", code, stdout)
	}

	code, stdout, stderr = run(t, "lab", "reset", "--emulator", "--name", "ws", "--yes", "--json")
	var rr labResetResult
	if code != ExitOK || json.Unmarshal([]byte(stdout), &rr) != nil || len(rr.Deleted) != 3 || len(rr.Purged) != 3 {
		t.Fatalf("lab reset: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(home, "labs", "ws.json")); !os.IsNotExist(err) {
		t.Errorf("the lab's record outlived the reset: %v", err)
	}
	// Reset, the lab is gone from the tenant and from this machine's record: an unknown lab.
	code, _, stderr = run(t, "lab", "status", "--emulator", "--tenant-type", "external", "--name", "ws", "--json")
	if code != ExitError || !strings.Contains(stderr, "no lab ws") || !strings.Contains(stderr, "knows no lab") {
		t.Errorf("status after reset: exit %d\n%s", code, stderr)
	}
}

// In a terminal the progress is one bar redrawn in place, failures above it; elsewhere a line
// per attendee.
func TestLabProgress(t *testing.T) {
	for _, tc := range []struct {
		tty  bool
		want []string
		not  []string
	}{
		{tty: true, want: []string{"\r\x1b[K", "3/3", "✗ c: boom", "#"}, not: []string{"✓ a"}},
		{tty: false, want: []string{"✓ a (1/3)", "– b: done in an earlier run", "✗ c: boom"}, not: []string{"\r"}},
	} {
		s, _, errOut := ui.Test("")
		s.OutTTY = tc.tty
		p := newLabProgress(s, 3)
		p.event(lab.Event{Attendee: lab.Attendee{ID: "a"}, Phase: lab.PhaseBundled, Done: 1, Total: 3})
		p.event(lab.Event{Attendee: lab.Attendee{ID: "b"}, Phase: lab.PhaseSkipped, Done: 2, Total: 3})
		p.event(lab.Event{Attendee: lab.Attendee{ID: "c"}, Phase: lab.PhaseFailed, Detail: "boom", Done: 3, Total: 3})
		p.finish()
		got := errOut.String()
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("tty=%v: %q lacks %q", tc.tty, got, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, w) {
				t.Errorf("tty=%v: %q has %q", tc.tty, got, w)
			}
		}
	}
}
