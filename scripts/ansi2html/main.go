// Command ansi2html turns a terminal capture with ANSI colour codes (tmux capture-pane -e) into a
// standalone HTML page, so scripts/screenshot.sh can render it with a headless browser.
package main

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// style is the current SGR state.
type style struct {
	fg, bg string
	bold   bool
}

func (s style) css() string {
	var b []string
	if s.fg != "" {
		b = append(b, "color:"+s.fg)
	}
	if s.bg != "" {
		b = append(b, "background:"+s.bg)
	}
	if s.bold {
		b = append(b, "font-weight:bold")
	}
	return strings.Join(b, ";")
}

// The xterm 16-colour palette.
var basic = []string{"#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
	"#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"}

func color256(n int) string {
	switch {
	case n < 16:
		return basic[n]
	case n < 232:
		n -= 16
		lv := func(v int) int {
			if v == 0 {
				return 0
			}
			return 55 + v*40
		}
		return fmt.Sprintf("#%02x%02x%02x", lv(n/36), lv(n/6%6), lv(n%6))
	}
	g := 8 + (n-232)*10
	return fmt.Sprintf("#%02x%02x%02x", g, g, g)
}

func apply(s style, params []int) style {
	for i := 0; i < len(params); i++ {
		p := params[i]
		switch {
		case p == 0:
			s = style{}
		case p == 1:
			s.bold = true
		case p == 22:
			s.bold = false
		case p >= 30 && p <= 37:
			s.fg = basic[p-30]
		case p >= 90 && p <= 97:
			s.fg = basic[p-90+8]
		case p == 39:
			s.fg = ""
		case p >= 40 && p <= 47:
			s.bg = basic[p-40]
		case p == 49:
			s.bg = ""
		case (p == 38 || p == 48) && i+2 < len(params) && params[i+1] == 5:
			c := color256(params[i+2])
			if p == 38 {
				s.fg = c
			} else {
				s.bg = c
			}
			i += 2
		case (p == 38 || p == 48) && i+4 < len(params) && params[i+1] == 2:
			c := fmt.Sprintf("#%02x%02x%02x", params[i+2], params[i+3], params[i+4])
			if p == 38 {
				s.fg = c
			} else {
				s.bg = c
			}
			i += 4
		}
	}
	return s
}

func convert(in string, w io.Writer) {
	fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><style>body{margin:0;background:#1e1e1e}pre{margin:0;padding:16px 20px;color:#e5e5e5;font:15px/1.35 "DejaVu Sans Mono",monospace}</style><pre>`)
	var cur style
	open := false
	for i := 0; i < len(in); {
		if in[i] == 0x1b && i+1 < len(in) && in[i+1] == '[' {
			j := i + 2
			for j < len(in) && (in[j] < '@' || in[j] > '~') {
				j++
			}
			if j < len(in) && in[j] == 'm' {
				var ps []int
				for _, f := range strings.Split(in[i+2:j], ";") {
					n, _ := strconv.Atoi(f)
					ps = append(ps, n)
				}
				cur = apply(cur, ps)
				if open {
					fmt.Fprint(w, "</span>")
				}
				fmt.Fprintf(w, `<span style="%s">`, cur.css())
				open = true
			}
			i = j + 1
			continue
		}
		r, n := utf8.DecodeRuneInString(in[i:])
		fmt.Fprint(w, html.EscapeString(string(r)))
		i += n
	}
	if open {
		fmt.Fprint(w, "</span>")
	}
	fmt.Fprint(w, "</pre>\n")
}

func main() {
	b, err := io.ReadAll(bufio.NewReader(os.Stdin))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	convert(string(b), os.Stdout)
}
