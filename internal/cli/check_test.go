package cli

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/internal/verify"
)

// The sign-in check's goldens are ui's (internal/ui/testdata): the report goes through this
// package's conversion to plain step data and through ui's one renderer, as verify prints it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testkit.Golden(t, filepath.Join("..", "ui", "testdata", name), got)
}

func step(s verify.Step, st verify.Status, detail string, d *verify.Diagnosis, ms int64) verify.StepResult {
	return verify.StepResult{Step: s, Title: s.Title(), Status: st, Detail: detail, Diagnosis: d, DurationMS: ms}
}

// passedReport is a finished run of the node-workforce sample.
func passedReport() verify.Report {
	return verify.Report{
		Authority: "https://login.microsoftonline.com/3632269b-3a14-4109-a75c-a16b8f2650ed", Issuer: "https://login.microsoftonline.com/3632269b-3a14-4109-a75c-a16b8f2650ed/v2.0",
		TenantID: "3632269b-3a14-4109-a75c-a16b8f2650ed", ClientID: "0aec7b6f-fa60-4edf-acef-f325e350e84e", Credential: "secret",
		RedirectURI: "http://localhost:3000/auth/redirect", ServedAt: "http://localhost:3000/auth/redirect",
		Steps: []verify.StepResult{
			step(verify.StepDiscovery, verify.Passed, "issuer https://login.microsoftonline.com/3632269b-3a14-4109-a75c-a16b8f2650ed/v2.0, 2 signing keys", nil, 42),
			step(verify.StepAuthorize, verify.Passed, "signed in at Entra; a code came back", nil, 8100),
			step(verify.StepCallback, verify.Passed, "state matched this attempt at http://localhost:3000/auth/redirect", nil, 0),
			step(verify.StepCodeExchange, verify.Passed, "tokens received with the client secret", nil, 120),
			step(verify.StepIDToken, verify.Passed, "issued by https://login.microsoftonline.com/3632269b-3a14-4109-a75c-a16b8f2650ed/v2.0 for 0aec7b6f-fa60-4edf-acef-f325e350e84e, signed with RS256", nil, 15),
			step(verify.StepGraphMe, verify.Passed, "Graph knows Megan Bowen (megan@contoso.onmicrosoft.com)", nil, 90),
			step(verify.StepSignOut, verify.Passed, "Entra signed out and came back to http://localhost:3000/", nil, 2300),
			step(verify.StepFrontChannel, verify.Skipped, "no front-channel logout URL is configured for this sample", nil, 0),
		},
		User:    &verify.User{Name: "Megan Bowen", Username: "megan@contoso.onmicrosoft.com", ObjectID: "973bd128-37c2-42fc-a9fe-d07102a1a91d", TenantID: "3632269b-3a14-4109-a75c-a16b8f2650ed"},
		Claims:  map[string]any{"name": "Megan Bowen", "tid": "3632269b-3a14-4109-a75c-a16b8f2650ed", "ver": "2.0"},
		Me:      map[string]any{"displayName": "Megan Bowen", "userPrincipalName": "megan@contoso.onmicrosoft.com"},
		Notices: []string{"Opening your browser at http://localhost:3000/entra-quickstart/"},
		Outcome: "passed", Started: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), DurationMS: 10800,
	}
}

// timedOutReport: Entra showed AADSTS50011 on its own page and the browser never came back.
func timedOutReport() verify.Report {
	r := passedReport()
	r.ServedAt = "http://localhost:41234/auth/redirect"
	d := &verify.Diagnosis{Code: "timeout:authorize", Title: "Entra never sent the browser back",
		Explanation: "The browser went to Entra but never came back to the redirect URI. Errors about the app itself are shown only on Entra's own page: AADSTS50011 (redirect URI mismatch).",
		Fix:         "Look at the browser: if Entra shows an AADSTS code, fix what it names and run the check again."}
	r.Steps = []verify.StepResult{
		r.Steps[0],
		step(verify.StepAuthorize, verify.Failed, "the browser went to Entra but never came back to http://localhost:41234/auth/redirect within 5m0s", d, 300000),
	}
	for _, s := range verify.Steps()[2:] {
		r.Steps = append(r.Steps, step(s, verify.Skipped, "not reached: authorize failed", nil, 0))
	}
	r.User, r.Claims, r.Me = nil, nil, nil
	r.Refusals = []verify.Refusal{{Time: r.Started.Add(time.Minute), Path: "/auth/redirect", Reason: "Unknown sign-in attempt"}}
	r.Outcome, r.DurationMS = "timeout", 300100
	return r
}

// notCheckedReport: aspnet-workforce's port was busy (the sample itself ran there), so its
// front-channel logout could not be observed; every other step passed.
func notCheckedReport() verify.Report {
	r := passedReport()
	r.RedirectURI, r.ServedAt = "https://localhost:5001/signin-oidc", "https://localhost:41234/signin-oidc"
	d := &verify.Diagnosis{Code: "local:front_channel_port_busy", Title: "Front-channel logout could not be observed",
		Explanation: "Entra calls the registered front-channel logout URL https://localhost:5001/signout-oidc, and another program holds port 5001 (Kestrel answers there, probably the sample itself).",
		Fix:         "Stop the program on port 5001 and run entra-quickstart verify again."}
	r.Steps[len(r.Steps)-1] = step(verify.StepFrontChannel, verify.NotChecked, "https://localhost:5001/signout-oidc is on a port this server could not take", d, 0)
	r.Outcome = "failed"
	return r
}

func TestChecklistGolden(t *testing.T) {
	rep := passedReport()
	var events []verify.Event
	events = append(events, verify.Event{Kind: verify.EventNotice, Message: "Port 3000 is busy, so the sign-in server uses port 41234 with the same path (http://localhost:41234/auth/redirect); Entra ignores the port of a localhost redirect URI."})
	events = append(events, verify.Event{Kind: verify.EventNotice, Message: "Opening your browser at http://localhost:41234/entra-quickstart/", URL: "http://localhost:41234/entra-quickstart/"})
	for _, s := range rep.Steps {
		run := s
		run.Status, run.Detail = verify.Running, "…"
		if s.Status != verify.Skipped {
			events = append(events, verify.Event{Kind: verify.EventStep, Step: run})
		}
		events = append(events, verify.Event{Kind: verify.EventStep, Step: s})
	}
	failed := timedOutReport().Steps[1]
	events = append(events, verify.Event{Kind: verify.EventStep, Step: failed})

	var buf bytes.Buffer
	progress := checklistProgress(ui.NewChecklist(&buf, ui.NewStyles(false)))
	for _, e := range events {
		progress(e)
	}
	testkit.Golden(t, filepath.Join("..", "ui", "testdata", "checklist.golden"), buf.Bytes())
}

func TestSummaryGolden(t *testing.T) {
	cases := []struct {
		name string
		rep  verify.Report
	}{
		{"summary_passed.golden", passedReport()},
		{"summary_timeout.golden", timedOutReport()},
		{"summary_not_checked.golden", notCheckedReport()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := ui.Render(&buf, ui.NewStyles(false), false, newCheckResult(tc.rep), tc.rep.ExitCode()); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, buf.Bytes())
		})
	}
}

func TestJSONGolden(t *testing.T) {
	cases := []struct {
		name string
		rep  verify.Report
		exit int
	}{
		{"report_passed.json", passedReport(), 0},
		{"report_timeout.json", timedOutReport(), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := ui.Render(&buf, ui.NewStyles(false), true, newCheckResult(tc.rep), tc.rep.ExitCode()); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, filepath.Join("..", "ui", "testdata", tc.name), buf.Bytes())
			if tc.rep.ExitCode() != tc.exit {
				t.Errorf("exit code %d, want %d", tc.rep.ExitCode(), tc.exit)
			}
		})
	}
}
