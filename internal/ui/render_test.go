package ui

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

type fakeResult struct {
	Verdict
	URL string `json:"url"`
}

func (f *fakeResult) Print(w io.Writer, _ Styles) { io.WriteString(w, "for a person: "+f.URL+"\n") }

// TestRender: one result, styled for a person or as JSON that starts with the verdict of the
// exit code given, with & < > kept as they are.
func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name     string
		asJSON   bool
		exitCode int
		want     string
	}{
		{"person", false, 0, "for a person: https://x/?a=1&b=<2>\n"},
		{"json ok", true, 0, "{\n  \"ok\": true,\n  \"exit_code\": 0,\n  \"url\": \"https://x/?a=1&b=<2>\"\n}\n"},
		{"json failed", true, 1, "{\n  \"ok\": false,\n  \"exit_code\": 1,\n  \"url\": \"https://x/?a=1&b=<2>\"\n}\n"},
		{"json interrupted", true, 130, "{\n  \"ok\": false,\n  \"exit_code\": 130,\n  \"url\": \"https://x/?a=1&b=<2>\"\n}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, NewStyles(false), tc.asJSON, &fakeResult{URL: "https://x/?a=1&b=<2>"}, tc.exitCode); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
			if tc.asJSON && !json.Valid(b.Bytes()) {
				t.Error("not valid JSON")
			}
		})
	}
}

// TestSummaryFromPlainSteps: the checklist renders plain step data, each status with its mark,
// a failed step's diagnosis, and the line that says how the check ended.
func TestSummaryFromPlainSteps(t *testing.T) {
	failed := Step{Title: "Authorize", Status: StepFailed, Detail: "AADSTS50011",
		Diagnosis: &Diagnosis{Code: "AADSTS50011", Title: "Redirect URI mismatch", Fix: "Register it."}}
	for _, tc := range []struct {
		name  string
		check Check
		want  []string
	}{
		{"passed", Check{ClientID: "c1", OK: true, Outcome: "passed", SignedIn: "Megan (megan@x) in tenant t",
			Steps: []Step{{Title: "Discovery", Status: StepPassed}, {Title: "Front-channel logout", Status: StepSkipped}}},
			[]string{"Sign-in check for c1", MarkOK + " Discovery", MarkSkip + " Front-channel logout", "signed in as Megan (megan@x) in tenant t",
				"All 1 checks passed (1 not applicable to this sample)"}},
		{"warning", Check{ClientID: "c3", OK: true, Outcome: "passed",
			Steps: []Step{{Title: "Sign-out", Status: StepPassed}, {Title: "Front-channel logout", Status: StepWarning, Detail: "not loaded",
				Diagnosis: &Diagnosis{Code: "warning:front_channel_not_observed", Title: "Front-channel logout not observed", Explanation: "Browsers may refuse that frame."}}}},
			[]string{MarkWarn + " Front-channel logout — not loaded", "warning:front_channel_not_observed Front-channel logout not observed", "Browsers may refuse that frame.",
				"All 1 checks passed (1 with a warning above)"}},
		{"failed", Check{ClientID: "c2", Outcome: "failed", Failure: &failed, Refusals: []string{"Unknown sign-in attempt"},
			Steps: []Step{{Title: "Discovery", Status: StepPassed}, failed}},
			[]string{MarkFail + " Authorize — AADSTS50011", "    AADSTS50011 Redirect URI mismatch", "What to do: Register it.",
				"1 request(s) refused: Unknown sign-in attempt", MarkFail + " The sign-in check failed at Authorize."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			Summary(&b, NewStyles(false), tc.check)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("the summary lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

func TestPlainStyles(t *testing.T) {
	// Without colour, styles leave text untouched: pipes, files and CI logs get plain marks.
	s := NewStyles(false)
	if got := s.Fail.Render(MarkFail + " x"); got != "✗ x" {
		t.Errorf("plain style rendered %q", got)
	}
}

// TestProgressKeepsTheDurationApart: a step's time is printed after its detail, not inside
// the brackets where it would read as part of an id.
func TestProgressKeepsTheDurationApart(t *testing.T) {
	s, _, errOut := Test("")
	p := NewProgress(s, false)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	for _, tc := range []struct{ step, detail, want string }{
		{"create the app registration", "client id 11111111-2222-3333-4444-555555555555", "✓ create the app registration (client id 11111111-2222-3333-4444-555555555555) · 1.5s\n"},
		{"wait until the new credential works", "", "✓ wait until the new credential works · 1.5s\n"},
	} {
		errOut.Reset()
		p.Start(tc.step)
		now = now.Add(1500 * time.Millisecond)
		p.Done(tc.step, tc.detail)
		if got := strings.SplitN(errOut.String(), "\n", 2)[1]; got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
