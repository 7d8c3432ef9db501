// Package safetext makes text from outside the tool (Graph's answers, sample files, requests
// reaching the sign-in server, Entra's error descriptions, roster names) safe to show. A
// terminal obeys escape sequences in what it is given: "\x1b[2J" clears the screen, "\x1b]0;…"
// retitles the window, and a web page can send such a path to the sample's fixed port. So
// control characters, invalid UTF-8 and the Unicode controls that reorder text (bidi overrides,
// the Trojan Source trick) come out escaped, visible and inert, never raw.
package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line is s for one line of a terminal or log: every control character (newlines included),
// DEL, C1 control, bidi control and invalid byte is shown as a Go-style escape (\x1b, \n,
// \u202e, \xff). Printable text, non-ASCII letters included, is unchanged.
func Line(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unsafe(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// Text is Line for text that may span lines: newlines and tabs stay as they are, every other
// control is escaped. For messages the tool composes around outside words (an error, a note).
func Text(s string) string {
	if clean(strings.NewReplacer("\n", "", "\t", "").Replace(s)) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		parts := strings.Split(l, "\t")
		for j, p := range parts {
			parts[j] = Line(p)
		}
		lines[i] = strings.Join(parts, "\t")
	}
	return strings.Join(lines, "\n")
}

// Markdown is Line, then the characters Markdown reads as markup escaped with a backslash, for
// text put into a Markdown page or table cell (a roster name cannot add a link, a column, or
// raw HTML to a handout).
func Markdown(s string) string {
	s = Line(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>|!~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// clean reports whether s needs no escaping (the common case, without allocating).
func clean(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n <= 1) || unsafe(r) {
			return false
		}
		i += n
	}
	return true
}

// unsafe reports a rune a terminal or a text renderer may act on rather than show: C0 and C1
// controls, DEL, and the Unicode format characters that change direction or hide text.
func unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return unicode.Is(unicode.Cc, r)
}
