package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/graph"
)

// A refused secret is told apart by the app's secrets as Graph shows them (hint: the first
// three characters; start and end), since Entra answers AADSTS7000215 for a wrong secret and a
// new one alike.
func TestSecretProblem(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	const secret = "abc8Q~0123456789012345678901234567890123"
	const answer = "no token with it: the new secret has not reached the sign-in service yet"
	for _, tc := range []struct {
		name      string
		passwords []graph.PasswordCredential
		want      string
	}{
		{"no secret on the app", nil, "not one the app has (the app has no client secret)"},
		{"one other secret", []graph.PasswordCredential{{Hint: "xyz", Start: now.Add(-time.Hour)}}, "not one the app has (its one client secret"},
		{"two other secrets", []graph.PasswordCredential{{Hint: "xyz"}, {Hint: "qrs"}}, "none of its 2 client secrets"},
		{"made a minute ago", []graph.PasswordCredential{{Hint: "abc", Start: now.Add(-time.Minute)}}, "does not work yet"},
		{"expired", []graph.PasswordCredential{{Hint: "abc", Start: now.Add(-48 * time.Hour), End: now.Add(-time.Hour)}}, "expired on 2026-12-02"},
		{"the app has it, long since", []graph.PasswordCredential{{Hint: "abc", Start: now.Add(-48 * time.Hour), End: now.Add(48 * time.Hour)}}, answer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := secretProblem(tc.passwords, secret, answer, now)
			if !strings.Contains(got, tc.want) {
				t.Errorf("secretProblem = %q, want it to say %q", got, tc.want)
			}
			if tc.want != answer && strings.Contains(tc.want, "not one") && strings.Contains(got, "reached the sign-in service") {
				t.Errorf("a secret the app does not have is called not replicated: %q", got)
			}
		})
	}
}

func TestLifetimeFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true}, {"720h", 720 * time.Hour, true}, {"1h30m", 90 * time.Minute, true},
		{"30 days", 0, false}, {"-3d", 0, false}, {"1.5d", 0, false},
	} {
		var l lifetime
		err := l.Set(tc.in)
		if (err == nil) != tc.ok || (tc.ok && time.Duration(l) != tc.want) {
			t.Errorf("Set(%q) = %v, %v", tc.in, time.Duration(l), err)
		}
	}
	l := lifetime(7 * 24 * time.Hour)
	if l.String() != "7d" {
		t.Errorf("String = %q, want 7d", l.String())
	}
	if checkLifetime(0, true) != nil || checkLifetime(0, false) == nil || checkLifetime(lifetime(731*24*time.Hour), true) == nil {
		t.Error("checkLifetime: 0 is the default only where allowed, and 731d is too long")
	}
}
