package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Verdict is what every --json result starts with: whether the command succeeded and the exit
// code the process ends with, so a script need not derive it. Results embed it first.
type Verdict struct {
	OK       bool `json:"ok"`
	ExitCode int  `json:"exit_code"`
}

// SetVerdict fills the verdict from the exit code.
func (v *Verdict) SetVerdict(exitCode int) { v.OK, v.ExitCode = exitCode == 0, exitCode }

// Result is a command's result: Print styles it for a person; as JSON it is the value itself,
// beginning with its Verdict.
type Result interface {
	Print(w io.Writer, st Styles)
	SetVerdict(exitCode int)
}

// Render writes a command's result to w (stdout): as JSON with asJSON, else styled by st. The
// verdict is set from exitCode first, so the JSON always says how the command ended.
func Render(w io.Writer, st Styles, asJSON bool, r Result, exitCode int) error {
	r.SetVerdict(exitCode)
	if asJSON {
		return WriteJSON(w, r)
	}
	r.Print(w, st)
	return nil
}

// WriteJSON is the one JSON writer: indented, a newline at the end, and no HTML escaping (the
// reader is a terminal or a script, and URLs keep their & as it is).
func WriteJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write the result as JSON: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}
