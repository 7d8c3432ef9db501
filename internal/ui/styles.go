package ui

import (
	"github.com/charmbracelet/lipgloss"
)

// Styles are every lipgloss style the tool uses, in one place (shared by all renderers: add new
// ones here). Plain returns unstyled ones for pipes, files, NO_COLOR and tests.
type Styles struct {
	Title   lipgloss.Style // a section heading
	OK      lipgloss.Style // ✓
	Fail    lipgloss.Style // ✗
	Running lipgloss.Style // ▸
	Skip    lipgloss.Style // –
	Muted   lipgloss.Style // details, ids
	Key     lipgloss.Style // a label in a summary
	Code    lipgloss.Style // a command to run
	Warn    lipgloss.Style
	// The sign-in checklist's (internal/ui/checklist.go).
	Passed  lipgloss.Style
	Failed  lipgloss.Style
	Skipped lipgloss.Style
	Notice  lipgloss.Style
}

// NewStyles returns styles for a terminal with colour, or plain ones.
func NewStyles(color bool) Styles {
	if !color {
		p := lipgloss.NewStyle()
		return Styles{Title: p, OK: p, Fail: p, Running: p, Skip: p, Muted: p, Key: p, Code: p, Warn: p, Passed: p, Failed: p, Skipped: p, Notice: p}
	}
	return Styles{
		Title:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("12")),
		OK:      lipgloss.NewStyle().Foreground(lipgloss.Color("10")),
		Fail:    lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
		Running: lipgloss.NewStyle().Foreground(lipgloss.Color("11")),
		Skip:    lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
		Muted:   lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
		Key:     lipgloss.NewStyle().Bold(true),
		Code:    lipgloss.NewStyle().Foreground(lipgloss.Color("14")),
		Warn:    lipgloss.NewStyle().Foreground(lipgloss.Color("11")).Bold(true),
		Passed:  lipgloss.NewStyle().Foreground(lipgloss.Color("10")),
		Failed:  lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
		Skipped: lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
		Notice:  lipgloss.NewStyle().Foreground(lipgloss.Color("12")),
	}
}

// Marks are the status glyphs, the same with or without colour.
const (
	MarkOK      = "✓"
	MarkFail    = "✗"
	MarkRunning = "▸"
	MarkSkip    = "–"
	MarkWarn    = "!"
)
