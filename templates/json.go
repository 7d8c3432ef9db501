package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tailscale/hujson"
)

// JSONEdit is one change to a JSON document: set Value (any value encoding/json can marshal)
// at the JSON pointer Pointer, or remove the member there.
type JSONEdit struct {
	Pointer string
	Value   any
	Remove  bool
}

var bom = []byte("\xef\xbb\xbf")

// EditJSON applies edits to a JSON document with comments (as appsettings.json is read by
// ASP.NET Core) on its syntax tree, so comments, blank lines, indentation, line endings, a
// byte-order mark and trailing commas stay as they were. Replaced values keep their place; new
// members go on their own line, indented like their siblings; missing objects and arrays on
// the way are created. Edits that change nothing return src unchanged.
//
// It refuses invalid JSON and duplicate member names (ASP.NET Core refuses those too) with an
// error wrapping ErrMalformed; src is never modified.
func EditJSON(src []byte, edits []JSONEdit) ([]byte, error) {
	body, hadBOM := bytes.CutPrefix(src, bom)
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: the file is not UTF-8 text", ErrMalformed)
	}
	root, err := hujson.Parse(bytes.Clone(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v; fix the JSON (or restore the sample's original file) and run again", ErrMalformed, err)
	}
	if err := checkDuplicates(&root, ""); err != nil {
		return nil, err
	}
	ed := jsonEditor{eol: "\n", unit: "  "}
	if bytes.Contains(body, []byte("\r\n")) {
		ed.eol = "\r\n"
	}
	ed.unit = detectIndentUnit(body)
	ed.src = body
	for _, e := range edits {
		if err := ed.apply(&root, e); err != nil {
			return nil, err
		}
	}
	out := root.Pack()
	if bytes.Equal(out, body) {
		return src, nil
	}
	if hadBOM {
		out = append(bytes.Clone(bom), out...)
	}
	return out, nil
}

func checkDuplicates(v *hujson.Value, at string) error {
	switch x := v.Value.(type) {
	case *hujson.Object:
		seen := map[string]bool{}
		for i := range x.Members {
			name := x.Members[i].Name.Value.(hujson.Literal).String()
			if seen[name] {
				return fmt.Errorf("%w: the member %q appears twice in %s; delete one and run again", ErrMalformed, name, orRoot(at))
			}
			seen[name] = true
			if err := checkDuplicates(&x.Members[i].Value, at+"/"+name); err != nil {
				return err
			}
		}
	case *hujson.Array:
		for i := range x.Elements {
			if err := checkDuplicates(&x.Elements[i], at+"/"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func orRoot(at string) string {
	if at == "" {
		return "the top-level object"
	}
	return at
}

type jsonEditor struct {
	src  []byte
	eol  string
	unit string
}

func detectIndentUnit(src []byte) string {
	for _, line := range strings.Split(string(src), "\n") {
		trimmed := strings.TrimLeft(line, " \t")
		if n := len(line) - len(trimmed); n > 0 && trimmed != "" && trimmed != "\r" {
			return line[:n]
		}
	}
	return "  "
}

func splitPointer(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("JSON pointer %q must start with /", p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		toks[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(t)
	}
	return toks, nil
}

func (ed *jsonEditor) apply(root *hujson.Value, e JSONEdit) error {
	toks, err := splitPointer(e.Pointer)
	if err != nil {
		return err
	}
	cur := root
	for i, tok := range toks {
		last := i == len(toks)-1
		switch c := cur.Value.(type) {
		case *hujson.Object:
			j := memberIndex(c, tok)
			if j < 0 {
				if e.Remove {
					return nil
				}
				val, err := ed.newValue(toks[i+1:], e.Value, ed.indentOf(cur)+ed.unit)
				if err != nil {
					return err
				}
				ed.appendMember(cur, c, tok, val)
				return nil
			}
			if last {
				if e.Remove {
					removeMember(c, j)
					return nil
				}
				return ed.replace(&c.Members[j].Value, e)
			}
			cur = &c.Members[j].Value
		case *hujson.Array:
			n, err := strconv.Atoi(tok)
			if err != nil || n < 0 || n > len(c.Elements) {
				return fmt.Errorf("%w: %s: %q is not an index of the array at that place", ErrMalformed, e.Pointer, tok)
			}
			if n == len(c.Elements) {
				if e.Remove {
					return nil
				}
				val, err := ed.newValue(toks[i+1:], e.Value, ed.indentOf(cur)+ed.unit)
				if err != nil {
					return err
				}
				ed.appendElement(cur, c, val)
				return nil
			}
			if last {
				if e.Remove {
					return fmt.Errorf("%s: removing array elements is not supported", e.Pointer)
				}
				return ed.replace(&c.Elements[n], e)
			}
			cur = &c.Elements[n]
		default:
			if e.Remove {
				return nil
			}
			return fmt.Errorf("%w: %s: the value before %q is not an object or array; restore the sample's original file and run again", ErrMalformed, e.Pointer, tok)
		}
	}
	return nil
}

func memberIndex(o *hujson.Object, name string) int {
	for i, m := range o.Members {
		if m.Name.Value.(hujson.Literal).String() == name {
			return i
		}
	}
	return -1
}

// replace sets a value in place, keeping the comments around it. A scalar replacing a scalar
// is written as a literal; anything else is laid out like a new value at that depth.
func (ed *jsonEditor) replace(v *hujson.Value, e JSONEdit) error {
	lit, err := literal(e.Value)
	if err != nil {
		return err
	}
	if old, ok := v.Value.(hujson.Literal); ok {
		if bytes.Equal(old, lit) {
			return nil
		}
		if isScalar(lit) {
			v.Value = lit
			return nil
		}
	}
	nv, err := ed.newValue(nil, e.Value, ed.indentOf(v))
	if err != nil {
		return err
	}
	v.Value = nv.Value
	return nil
}

func isScalar(lit hujson.Literal) bool {
	return len(lit) > 0 && lit[0] != '{' && lit[0] != '['
}

// literal encodes a Go value as JSON without escaping <, > and & (a URL stays readable).
func literal(v any) (hujson.Literal, error) {
	if s, ok := v.(string); ok && !utf8.ValidString(s) {
		return nil, fmt.Errorf("the value %q is not UTF-8 text", s)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return hujson.Literal(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// newValue builds the value for the rest of a pointer (objects for names, arrays for "0"),
// laid out with the file's indent unit and line ending, starting at indent.
func (ed *jsonEditor) newValue(rest []string, leaf any, indent string) (hujson.Value, error) {
	v := leaf
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i] == "0" {
			v = []any{v}
		} else {
			v = map[string]any{rest[i]: v}
		}
	}
	if s, ok := leaf.(string); ok && !utf8.ValidString(s) {
		return hujson.Value{}, fmt.Errorf("the value %q is not UTF-8 text", s)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(indent, ed.unit)
	if err := enc.Encode(v); err != nil {
		return hujson.Value{}, err
	}
	text := strings.TrimRight(b.String(), "\n")
	if ed.eol != "\n" {
		text = strings.ReplaceAll(text, "\n", ed.eol)
	}
	val, err := hujson.Parse([]byte(text))
	if err != nil {
		return hujson.Value{}, err
	}
	return val, nil
}

// indentOf returns the indentation of the line on which v starts in the original source; for
// values created by this editor (no offset), the unit.
func (ed *jsonEditor) indentOf(v *hujson.Value) string {
	off := v.StartOffset
	if off <= 0 || off > len(ed.src) {
		return ""
	}
	start := bytes.LastIndexByte(ed.src[:off], '\n') + 1
	line := ed.src[start:off]
	n := len(line) - len(bytes.TrimLeft(line, " \t"))
	return string(line[:n])
}

// appendMember adds a member after the last one, on its own line with the siblings'
// indentation; the trailing-comma style of the object is kept.
func (ed *jsonEditor) appendMember(owner *hujson.Value, o *hujson.Object, name string, val hujson.Value) {
	indent := ed.indentOf(owner) + ed.unit
	m := hujson.ObjectMember{
		Name:  hujson.Value{Value: hujson.String(name)},
		Value: hujson.Value{BeforeExtra: hujson.Extra(" "), Value: val.Value},
	}
	if n := len(o.Members); n > 0 {
		last := &o.Members[n-1]
		m.Name.BeforeExtra = hujson.Extra(ed.eol + lineIndent(last.Name.BeforeExtra, indent))
		// hujson writes a trailing comma when the last value's AfterExtra is non-nil: the new
		// last member inherits the object's trailing-comma style; the old one keeps its extra.
		if last.Value.AfterExtra != nil {
			m.Value.AfterExtra = hujson.Extra{}
		}
	} else {
		// An empty object may hold comments: they stay first, the member goes under them.
		lead := bytes.TrimRight(o.AfterExtra, " \t\r\n")
		m.Name.BeforeExtra = hujson.Extra(string(lead) + ed.eol + indent)
		o.AfterExtra = hujson.Extra(ed.eol + ed.indentOf(owner))
	}
	o.Members = append(o.Members, m)
}

// lineIndent returns the whitespace after the last line break of extra (the indentation of the
// member it precedes), or def when extra has no line break.
func lineIndent(extra hujson.Extra, def string) string {
	i := bytes.LastIndexByte(extra, '\n')
	if i < 0 {
		return def
	}
	tail := extra[i+1:]
	if len(bytes.TrimLeft(tail, " \t")) != 0 {
		return def
	}
	return string(tail)
}

func (ed *jsonEditor) appendElement(owner *hujson.Value, a *hujson.Array, val hujson.Value) {
	indent := ed.indentOf(owner) + ed.unit
	e := hujson.Value{Value: val.Value}
	if n := len(a.Elements); n > 0 {
		last := &a.Elements[n-1]
		e.BeforeExtra = hujson.Extra(ed.eol + lineIndent(last.BeforeExtra, indent))
		if last.AfterExtra != nil {
			e.AfterExtra = hujson.Extra{}
		}
	} else {
		lead := bytes.TrimRight(a.AfterExtra, " \t\r\n")
		e.BeforeExtra = hujson.Extra(string(lead) + ed.eol + indent)
		a.AfterExtra = hujson.Extra(ed.eol + ed.indentOf(owner))
	}
	a.Elements = append(a.Elements, e)
}

// removeMember deletes a member with the comments and line before it; when it was the last
// member, the new last one takes over its trailing-comma state.
func removeMember(o *hujson.Object, j int) {
	n := len(o.Members)
	if j == n-1 && n > 1 {
		o.Members[n-2].Value.AfterExtra = o.Members[n-1].Value.AfterExtra
	}
	if n == 1 {
		o.AfterExtra = append(o.Members[0].Value.AfterExtra, o.AfterExtra...)
	}
	o.Members = append(o.Members[:j], o.Members[j+1:]...)
}
