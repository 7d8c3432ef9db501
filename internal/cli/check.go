package cli

import (
	"fmt"
	"io"

	"github.com/entra-quickstart/entra-quickstart/internal/ui"
	"github.com/entra-quickstart/entra-quickstart/internal/verify"
)

// checkResult is the sign-in check's report as a command result (verify's, and inside init's):
// the report with the verdict in front. Its verdict fields are not ui.Verdict's names, which
// would hide the report's OK and ExitCode methods.
type checkResult struct {
	Passed bool `json:"ok"`
	Exit   int  `json:"exit_code"`
	verify.Report
	// verdictOnly prints the one-line verdict alone: the progress on the same screen already
	// showed every step (a terminal); a file or a pipe on stdout gets the whole checklist.
	verdictOnly bool
}

func newCheckResult(r verify.Report) *checkResult {
	c := &checkResult{Report: r}
	c.SetVerdict(r.ExitCode())
	return c
}

// SetVerdict sets ok and exit_code.
func (c *checkResult) SetVerdict(exitCode int) { c.Passed, c.Exit = exitCode == 0, exitCode }

// Print is the finished checklist; nothing when the check never started (the error says why).
func (c *checkResult) Print(w io.Writer, st ui.Styles) {
	switch {
	case len(c.Steps) == 0:
	case c.verdictOnly:
		ui.CheckVerdict(w, st, checkOf(c.Report))
	default:
		ui.Summary(w, st, checkOf(c.Report))
	}
}

// checklistProgress shows the check's progress on c as it happens.
func checklistProgress(c *ui.Checklist) func(verify.Event) {
	return func(ev verify.Event) {
		switch ev.Kind {
		case verify.EventNotice:
			c.Notice(ev.Message)
		case verify.EventStep:
			c.Step(stepOf(ev.Step))
		}
	}
}

// checkOf is the report as the plain data ui renders.
func checkOf(r verify.Report) ui.Check {
	c := ui.Check{ClientID: r.ClientID, RedirectURI: r.RedirectURI, ServedAt: r.ServedAt, OK: r.OK(), Outcome: r.Outcome}
	for _, s := range r.Steps {
		c.Steps = append(c.Steps, stepOf(s))
	}
	if u := r.User; u != nil {
		c.SignedIn = fmt.Sprintf("%s (%s) in tenant %s", u.Name, u.Username, u.TenantID)
	}
	for _, x := range r.Refusals {
		c.Refusals = append(c.Refusals, x.Reason)
	}
	if f := r.FirstFailure(); f != nil {
		s := stepOf(*f)
		c.Failure = &s
	}
	return c
}

func stepOf(r verify.StepResult) ui.Step {
	s := ui.Step{Title: r.Title, Status: ui.StepStatus(r.Status), Detail: r.Detail}
	if d := r.Diagnosis; d != nil {
		s.Diagnosis = &ui.Diagnosis{Code: d.Code, Title: d.Title, Explanation: d.Explanation, Message: d.Message, Fix: d.Fix}
	}
	return s
}
