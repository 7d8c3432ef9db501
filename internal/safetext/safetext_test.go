package safetext

import (
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain /auth/redirect?code=x", "plain /auth/redirect?code=x"},
		{"Zoë Ñandú 日本", "Zoë Ñandú 日本"},
		{"/\x1b[2J\x1b[31mPWNED", `/\x1b[2J\x1b[31mPWNED`},
		{"\x1b]0;title\x07", `\x1b]0;title\x07`},
		{"two\nlines\r", `two\nlines\r`},
		{"c1 \u009b31m", `c1 \x9b31m`},
		{"bidi \u202egnp.exe", `bidi \u202egnp.exe`},
		{"bad \xff byte", `bad \xff byte`},
		{"del \x7f", `del \x7f`},
	} {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	got := Markdown("Eve | [click](https://evil.example) <img src=x> `code`\x1b[2J")
	for _, bad := range []string{"\x1b", " | ", " [", " <", " `"} {
		if strings.Contains(got, bad) {
			t.Errorf("Markdown left %q in %q", bad, got)
		}
	}
	if !strings.Contains(got, `\[click\]`) {
		t.Errorf("a link survives: %q", got)
	}
	if Markdown("Ana Lima-Souza (TA)") != "Ana Lima-Souza (TA)" {
		t.Errorf("plain names change: %q", Markdown("Ana Lima"))
	}
}

// FuzzLine: whatever comes in, nothing a terminal would act on comes out.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"", "a", "\x1b[2J", "\u202e", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if out := Line(s); !clean(out) {
			t.Fatalf("Line(%q) = %q still holds a control", s, out)
		}
	})
}

func TestTextKeepsLines(t *testing.T) {
	if got := Text("Error: one\n\ttwo \x1b[2J"); got != "Error: one\n\ttwo \\x1b[2J" {
		t.Errorf("Text = %q", got)
	}
}
