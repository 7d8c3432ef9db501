package templates

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ErrMalformed is returned (wrapped) for existing content the editors will not touch because a
// sample could read it differently than the editor does; the file is left as it was.
var ErrMalformed = errors.New("malformed content")

// EnvFile is a dotenv file held as its lines, so that editing a value leaves every other byte
// (comments, blank lines, order, export, spacing, inline comments, line endings) as it was.
type EnvFile struct {
	lines []envLine
	eol   string // for appended lines: the file's own line ending
	final bool   // whether the last line ended with a line ending
}

type envLine struct {
	text string // without its line ending
	eol  string // "\n", "\r\n" or "" (last line without one)
	// For an assignment: text = prefix + raw value + suffix.
	key    string
	prefix string // `export KEY=`, with the original spacing
	raw    string // the value as written, quotes included
	suffix string // spaces and an inline comment after the value
	quote  byte   // 0, '\'', '"' or '`'
}

var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

var envAssign = regexp.MustCompile(`^(\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=[ \t]*)(.*)$`)

// ParseEnv parses a dotenv file. It refuses what the samples' parsers (Node's dotenv,
// python-dotenv, godotenv) would read differently or what this editor cannot keep intact: a
// byte-order mark (the first key would carry it), invalid UTF-8 or NUL bytes, and a quote that
// is not closed on its line (a multi-line value). Duplicate keys are accepted here and refused
// by Set for the key concerned.
func ParseEnv(src []byte) (*EnvFile, error) {
	if bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) {
		return nil, fmt.Errorf("%w: the file starts with a byte-order mark, which Node's dotenv and python-dotenv read as part of the first key; save it as UTF-8 without BOM", ErrMalformed)
	}
	if !utf8.Valid(src) || bytes.IndexByte(src, 0) >= 0 {
		return nil, fmt.Errorf("%w: the file is not UTF-8 text; check that it is the sample's .env", ErrMalformed)
	}
	f := &EnvFile{eol: "\n"}
	crlf, lf := 0, 0
	rest := string(src)
	for n := 1; rest != ""; n++ {
		var l envLine
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			l.text, rest = rest, ""
		} else {
			l.text, l.eol, rest = rest[:i], "\n", rest[i+1:]
			if strings.HasSuffix(l.text, "\r") {
				l.text, l.eol = l.text[:len(l.text)-1], "\r\n"
				crlf++
			} else {
				lf++
			}
		}
		if strings.ContainsRune(l.text, '\r') {
			return nil, fmt.Errorf("%w: line %d has a carriage return inside it; use one kind of line ending", ErrMalformed, n)
		}
		if err := l.parse(); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrMalformed, n, err)
		}
		f.lines = append(f.lines, l)
	}
	if crlf > lf {
		f.eol = "\r\n"
	}
	f.final = len(f.lines) == 0 || f.lines[len(f.lines)-1].eol != ""
	return f, nil
}

func (l *envLine) parse() error {
	m := envAssign.FindStringSubmatch(l.text)
	if m == nil {
		return nil // a comment, a blank line or something no parser assigns from: kept verbatim
	}
	l.key, l.prefix = m[2], m[1]
	v := m[3]
	switch q := firstByte(v); q {
	case '\'', '"', '`':
		end := closingQuote(v, q)
		if end < 0 {
			return fmt.Errorf("the value of %s opens a %c quote that is not closed on the same line (multi-line values are not supported); close the quote", l.key, q)
		}
		l.quote, l.raw, l.suffix = q, v[:end+1], v[end+1:]
	default:
		// An unquoted value ends where an inline comment starts (" #"), the rule godotenv and
		// python-dotenv share; trailing spaces belong to the suffix.
		end := len(v)
		if i := strings.Index(v, " #"); i >= 0 {
			end = i
		} else if i := strings.Index(v, "\t#"); i >= 0 {
			end = i
		}
		raw := strings.TrimRight(v[:end], " \t")
		l.raw, l.suffix = raw, v[len(raw):]
	}
	return nil
}

func firstByte(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}

// closingQuote returns the index of the quote closing v[0], honouring backslash escapes inside
// double quotes.
func closingQuote(v string, q byte) int {
	for i := 1; i < len(v); i++ {
		switch {
		case v[i] == '\\' && q == '"' && i+1 < len(v):
			i++
		case v[i] == q:
			return i
		}
	}
	return -1
}

// Keys returns the keys assigned in the file, in order, duplicates included.
func (f *EnvFile) Keys() []string {
	var keys []string
	for _, l := range f.lines {
		if l.key != "" {
			keys = append(keys, l.key)
		}
	}
	return keys
}

// Get returns the value of key as the samples' parsers read it (the last assignment wins, as
// in all three): single quotes and backticks literal, double quotes with \n and \" decoded.
func (f *EnvFile) Get(key string) (string, bool) {
	for i := len(f.lines) - 1; i >= 0; i-- {
		if l := f.lines[i]; l.key == key {
			return decodeEnvValue(l.raw, l.quote), true
		}
	}
	return "", false
}

func decodeEnvValue(raw string, q byte) string {
	switch q {
	case '\'', '`':
		return raw[1 : len(raw)-1]
	case '"':
		s := raw[1 : len(raw)-1]
		return strings.NewReplacer(`\n`, "\n", `\r`, "\r", `\"`, `"`, `\\`, `\`).Replace(s)
	}
	return raw
}

// ErrDuplicateKey is returned (wrapped) by Set for a key assigned more than once.
var ErrDuplicateKey = errors.New("duplicate key")

// Set gives key the value. An existing assignment keeps its prefix, its inline comment and,
// when the value allows, its quote style; a missing key is appended at the end, after header
// (comment lines written before the first appended key, when given).
func (f *EnvFile) Set(key, value string, header ...string) error {
	if !envKey.MatchString(key) {
		return fmt.Errorf("%q is not a dotenv key (letters, digits, '_' and '.', not starting with a digit)", key)
	}
	idx := -1
	var lines []int
	for i, l := range f.lines {
		if l.key == key {
			idx = i
			lines = append(lines, i+1)
		}
	}
	if len(lines) > 1 {
		return fmt.Errorf("%w: %s is set on lines %v; the samples would use the last one: delete the others and run again", ErrDuplicateKey, key, lines)
	}
	if idx >= 0 {
		l := &f.lines[idx]
		if cur := decodeEnvValue(l.raw, l.quote); cur == value {
			return nil // keep the bytes as they are
		}
		raw, q, err := encodeEnvValue(key, value, l.quote)
		if err != nil {
			return err
		}
		l.raw, l.quote = raw, q
		l.text = l.prefix + l.raw + l.suffix
		return nil
	}
	raw, q, err := encodeEnvValue(key, value, 0)
	if err != nil {
		return err
	}
	if !f.final && len(f.lines) > 0 {
		f.lines[len(f.lines)-1].eol = f.eol
		f.final = true
	}
	for _, h := range header {
		f.lines = append(f.lines, envLine{text: h, eol: f.eol})
	}
	f.lines = append(f.lines, envLine{text: key + "=" + raw, eol: f.eol, key: key, prefix: key + "=", raw: raw, quote: q})
	return nil
}

var bareValue = regexp.MustCompile(`^[A-Za-z0-9~._:/@-]+$`)

// encodeEnvValue writes value so that Node's dotenv, python-dotenv and godotenv all read it
// back unchanged: bare when it has only safe characters (ids, URLs, Entra secrets), in the
// line's own quotes when those were single or double and the value is safe, else in single
// quotes (no escapes, no expansion in any of the three), else in double quotes when nothing in
// it is special there. A value none of these carry exactly is refused rather than written wrong.
func encodeEnvValue(key, value string, prefer byte) (string, byte, error) {
	if !utf8.ValidString(value) || strings.IndexByte(value, 0) >= 0 {
		return "", 0, fmt.Errorf("the value for %s is not UTF-8 text", key)
	}
	if value == "" {
		if prefer == '"' || prefer == '\'' {
			return string(prefer) + string(prefer), prefer, nil
		}
		return "", 0, nil
	}
	if bareValue.MatchString(value) {
		if prefer == '"' || prefer == '\'' {
			return string(prefer) + value + string(prefer), prefer, nil
		}
		return value, 0, nil
	}
	// A backslash is not literal in single quotes everywhere: python-dotenv decodes \\ and \',
	// and Node's dotenv and godotenv take a final \' for an escaped quote.
	if !strings.ContainsAny(value, "'\\\n\r") {
		return "'" + value + "'", '\'', nil
	}
	if !strings.ContainsAny(value, "\"\\$`\n\r") {
		return `"` + value + `"`, '"', nil
	}
	return "", 0, fmt.Errorf("the value for %s holds a backslash, a line break, or a single quote with one of \" $ `, which the samples' dotenv parsers do not read back alike; choose another value", key)
}

// Bytes returns the file's content.
func (f *EnvFile) Bytes() []byte {
	var b strings.Builder
	for _, l := range f.lines {
		b.WriteString(l.text)
		b.WriteString(l.eol)
	}
	return []byte(b.String())
}
