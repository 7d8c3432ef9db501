package ui

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// StepStatus is where a checklist step is.
type StepStatus string

const (
	StepPending    StepStatus = "pending"
	StepRunning    StepStatus = "running"
	StepPassed     StepStatus = "passed"
	StepFailed     StepStatus = "failed"
	StepSkipped    StepStatus = "skipped"     // does not apply
	StepNotChecked StepStatus = "not_checked" // applies, and this run could not see it
	StepWarning    StepStatus = "warning"     // applies, not seen for a reason outside the config; still a pass
)

// Step is one line of a checklist, as plain data.
type Step struct {
	Title     string
	Status    StepStatus
	Detail    string
	Diagnosis *Diagnosis
}

// Diagnosis says why a step failed and what to do.
type Diagnosis struct {
	Code, Title, Explanation, Message, Fix string
}

// Check is a finished sign-in check, as plain data for Summary.
type Check struct {
	ClientID, RedirectURI, ServedAt string
	Steps                           []Step
	// SignedIn names who signed in, e.g. "Megan Bowen (megan@contoso.com) in tenant <id>".
	SignedIn string
	Refusals []string // the reasons requests were refused
	OK       bool
	// Outcome is passed, failed, timeout or interrupted; Failure is the step that kept the
	// check from passing (nil when none did).
	Outcome string
	Failure *Step
}

// Checklist writes a check's progress as it happens: a line when a step starts, a line when it
// ends (with its diagnosis when it failed), and notices.
// Messages go to stderr in the CLI; the final result goes to stdout (Summary or JSON).
type Checklist struct {
	mu sync.Mutex
	w  io.Writer
	s  Styles
}

// NewChecklist writes to w with styles s.
func NewChecklist(w io.Writer, s Styles) *Checklist { return &Checklist{w: w, s: s} }

// Notice renders something the person should know (the URL to open, a busy port).
func (c *Checklist) Notice(message string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, "%s %s\n", c.s.Running.Render(MarkRunning), message)
}

// Step renders a step that changed; a pending one is not shown.
func (c *Checklist) Step(st Step) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.Status == StepPending {
		return
	}
	writeStep(c.w, c.s, st)
}

func writeStep(w io.Writer, s Styles, r Step) {
	var mark string
	switch r.Status {
	case StepPassed:
		mark = s.OK.Render(MarkOK)
	case StepFailed:
		mark = s.Fail.Render(MarkFail)
	case StepSkipped:
		mark = s.Skip.Render(MarkSkip)
	case StepNotChecked, StepWarning:
		mark = s.Warn.Render(MarkWarn) // applies to the sample, and this run could not see it
	default:
		mark = s.Running.Render(MarkRunning)
	}
	line := mark + " " + s.Key.Render(r.Title)
	if r.Detail != "" {
		line += s.Muted.Render(" — " + r.Detail)
	}
	fmt.Fprintln(w, line)
	if (r.Status == StepFailed || r.Status == StepNotChecked || r.Status == StepWarning) && r.Diagnosis != nil {
		writeDiagnosis(w, s, r.Diagnosis)
	}
}

func writeDiagnosis(w io.Writer, s Styles, d *Diagnosis) {
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
func Summary(w io.Writer, s Styles, r Check) {
	fmt.Fprintln(w, s.Title.Render("Sign-in check for "+r.ClientID))
	if r.ServedAt != "" && r.ServedAt != r.RedirectURI {
		fmt.Fprintln(w, s.Muted.Render("served at "+r.ServedAt+" (the sample's port was busy)"))
	}
	for _, st := range r.Steps {
		writeStep(w, s, st)
	}
	if r.SignedIn != "" {
		fmt.Fprintln(w, s.Muted.Render("signed in as "+r.SignedIn))
	}
	if n := len(r.Refusals); n > 0 {
		fmt.Fprintln(w, s.Muted.Render(fmt.Sprintf("%d request(s) refused: %s", n, strings.Join(r.Refusals, "; "))))
	}
	CheckVerdict(w, s, r)
}

// CheckVerdict writes the one line that says how a check ended: all a terminal needs after the
// checklist's progress already showed every step (Summary repeats them for a file or a pipe).
func CheckVerdict(w io.Writer, s Styles, r Check) {
	passed, skipped, warned := 0, 0, 0
	for _, st := range r.Steps {
		switch st.Status {
		case StepPassed:
			passed++
		case StepSkipped:
			skipped++
		case StepWarning:
			warned++
		}
	}
	switch {
	case r.OK:
		msg := fmt.Sprintf("%s All %d checks passed", MarkOK, passed)
		var notes []string
		if skipped > 0 {
			notes = append(notes, fmt.Sprintf("%d not applicable to this sample", skipped))
		}
		if warned > 0 {
			notes = append(notes, fmt.Sprintf("%d with a warning above", warned))
		}
		if len(notes) > 0 {
			msg += " (" + strings.Join(notes, ", ") + ")"
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
		if f := r.Failure; f != nil {
			at = " at " + f.Title
			if f.Status == StepNotChecked && r.Outcome == "failed" {
				what, at = "could not check", " "+f.Title+" (no step failed)"
			}
		}
		fmt.Fprintln(w, s.Fail.Render(fmt.Sprintf("%s The sign-in check %s%s.", MarkFail, what, at)))
	}
}
