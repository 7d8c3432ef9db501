package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/entra-quickstart/entra-quickstart/internal/verify"
)

// Checklist writes verify's progress as it happens: a line when a step starts, a line when it
// ends (with its diagnosis when it failed), and notices. Give Event to verify.Options.Progress.
// Messages go to stderr in the CLI; the final result goes to stdout (Summary or JSON).
type Checklist struct {
	mu sync.Mutex
	w  io.Writer
	s  Styles
}

// NewChecklist writes to w with styles s.
func NewChecklist(w io.Writer, s Styles) *Checklist { return &Checklist{w: w, s: s} }

// Event renders one progress event.
func (c *Checklist) Event(ev verify.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ev.Kind {
	case verify.EventNotice:
		fmt.Fprintf(c.w, "%s %s\n", c.s.Running.Render(MarkRunning), ev.Message)
	case verify.EventStep:
		if ev.Step.Status == verify.Pending {
			return
		}
		writeStep(c.w, c.s, ev.Step)
	}
}

func writeStep(w io.Writer, s Styles, r verify.StepResult) {
	var mark string
	switch r.Status {
	case verify.Passed:
		mark = s.OK.Render(MarkOK)
	case verify.Failed:
		mark = s.Fail.Render(MarkFail)
	case verify.Skipped:
		mark = s.Skip.Render(MarkSkip)
	case verify.NotChecked:
		mark = s.Warn.Render(MarkWarn) // applies to the sample, and this run could not see it
	default:
		mark = s.Running.Render(MarkRunning)
	}
	line := mark + " " + s.Key.Render(r.Title)
	if r.Detail != "" {
		line += s.Muted.Render(" — " + r.Detail)
	}
	fmt.Fprintln(w, line)
	if (r.Status == verify.Failed || r.Status == verify.NotChecked) && r.Diagnosis != nil {
		writeDiagnosis(w, s, r.Diagnosis)
	}
}

func writeDiagnosis(w io.Writer, s Styles, d *verify.Diagnosis) {
	const in = "    "
	fmt.Fprintf(w, "%s%s %s\n", in, s.Code.Render(d.Code), s.Key.Render(d.Title))
	if d.Explanation != "" {
		fmt.Fprintf(w, "%s%s\n", in, d.Explanation)
	}
	if d.Message != "" && d.Message != d.Explanation {
		fmt.Fprintf(w, "%s%s\n", in, s.Muted.Render("Said: "+d.Message))
	}
	if d.Fix != "" {
		fmt.Fprintf(w, "%s%s %s\n", in, s.Key.Render("What to do:"), d.Fix)
	}
}

// Summary writes the finished checklist: every step with its mark, then one line that says
// how it ended.
func Summary(w io.Writer, s Styles, r verify.Report) {
	fmt.Fprintln(w, s.Title.Render("Sign-in check for "+r.ClientID))
	if r.ServedAt != "" && r.ServedAt != r.RedirectURI {
		fmt.Fprintln(w, s.Muted.Render("served at "+r.ServedAt+" (the sample's port was busy)"))
	}
	for _, st := range r.Steps {
		writeStep(w, s, st)
	}
	if r.User != nil {
		fmt.Fprintln(w, s.Muted.Render(fmt.Sprintf("signed in as %s (%s) in tenant %s", r.User.Name, r.User.Username, r.User.TenantID)))
	}
	if n := len(r.Refusals); n > 0 {
		fmt.Fprintln(w, s.Muted.Render(fmt.Sprintf("%d request(s) refused: %s", n, refusalReasons(r))))
	}
	passed, skipped := 0, 0
	for _, st := range r.Steps {
		switch st.Status {
		case verify.Passed:
			passed++
		case verify.Skipped:
			skipped++
		}
	}
	switch {
	case r.OK():
		msg := fmt.Sprintf("%s All %d checks passed", MarkOK, passed)
		if skipped > 0 {
			msg += fmt.Sprintf(" (%d not applicable to this sample)", skipped)
		}
		fmt.Fprintln(w, s.OK.Render(msg+": the sample's configuration signs people in."))
	default:
		what := "failed"
		switch r.Outcome {
		case "timeout":
			what = "timed out"
		case "interrupted":
			what = "was interrupted"
		}
		at := ""
		if f := r.FirstFailure(); f != nil {
			at = " at " + f.Title
			if f.Status == verify.NotChecked && r.Outcome == "failed" {
				what, at = "could not check", " "+f.Title+" (no step failed)"
			}
		}
		fmt.Fprintln(w, s.Fail.Render(fmt.Sprintf("%s The sign-in check %s%s.", MarkFail, what, at)))
	}
}

func refusalReasons(r verify.Report) string {
	var rs []string
	for _, x := range r.Refusals {
		rs = append(rs, x.Reason)
	}
	return strings.Join(rs, "; ")
}

// WriteJSON writes the report as indented JSON (--json): the same checklist as data.
func WriteJSON(w io.Writer, r verify.Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	// ok and exit_code spare scripts from re-deriving the verdict from the steps.
	v := struct {
		OK       bool `json:"ok"`
		ExitCode int  `json:"exit_code"`
		verify.Report
	}{r.OK(), r.ExitCode(), r}
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write the report as JSON: %w", err)
	}
	return nil
}
