package cli

import (
	"strings"
	"testing"
)

// TestSignInCheckWithoutAPerson runs the built binary with no terminal (stdin is /dev/null,
// stdout and stderr are pipes) and no browser (BROWSER=none): the sign-in check says at once
// what it needs (the URL, the emulator's demo user and password), and where nothing can complete
// it, it stops at once with that diagnosis instead of waiting out --timeout 10m. Under
// --auto-sign-in nothing asks the person to press Sign out or to accept a certificate warning.
func TestSignInCheckWithoutAPerson(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		want     []string // on stderr
		wantNot  []string // on stderr
		diagCode string
	}{
		{
			name: "no browser, nobody at a terminal: stops at once",
			args: []string{"init", "--emulator", "--sample", "node-workforce", "--yes", "--timeout", "10m"},
			code: ExitError,
			want: []string{"http://localhost:", "/entra-quickstart/", "(sign in as ", "with the password ",
				"no one is at a terminal to open", "--auto-sign-in", "--no-browser"},
			wantNot:  []string{"never came back", "Nobody opened the start page", "within 10m"},
			diagCode: "local:no_browser_unattended",
		},
		{
			name:     "--no-browser: the URL and who to sign in as, then the wait",
			args:     []string{"init", "--emulator", "--sample", "node-workforce", "--yes", "--no-browser", "--timeout", "1s"},
			code:     ExitError,
			want:     []string{"Open this URL in your browser to sign in: http://localhost:", "(sign in as ", "with the password "},
			wantNot:  []string{"never came back", "no one is at a terminal"},
			diagCode: "timeout:no_browser",
		},
		{
			name:    "--auto-sign-in, https and front-channel logout: no instructions for a person",
			args:    []string{"init", "--emulator", "--sample", "aspnet-workforce", "--yes", "--auto-sign-in", "--timeout", "60s"},
			code:    ExitOK,
			want:    []string{"Signing in automatically at https://localhost:"},
			wantNot: []string{"Press Sign out", "Your browser will warn", "choose Advanced", "with the password"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--dir", t.TempDir())
			r, err := runBinary(bin, t.TempDir(), nil, args...)
			if err != nil {
				t.Fatal(err)
			}
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, tc.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(r.stderr, w) {
					t.Errorf("stderr says %q:\n%s", w, r.stderr)
				}
			}
			if tc.diagCode != "" && !strings.Contains(r.stderr, tc.diagCode) {
				t.Errorf("no diagnosis %s:\n%s", tc.diagCode, r.stderr)
			}
			// The URL and who to sign in as come before the check ends, in one notice.
			if i, j := strings.Index(r.stderr, "(sign in as "), strings.Index(r.stderr, "✗ Authorize"); i >= 0 && j >= 0 && i > j {
				t.Errorf("who to sign in as came after the failure:\n%s", r.stderr)
			}
		})
	}
}
