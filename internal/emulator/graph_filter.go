package emulator

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The $filter language: a small OData parser and evaluator over rendered Graph objects
// (map[string]any as JSON decodes them). It covers what directory objects accept:
// and/or/not, eq ne gt ge lt le, in (…), startswith/endswith/contains, any/all lambdas over
// collections (tags/any(t:t eq 'x')), string/number/bool/null/GUID/date literals. Keywords
// and function names are case-insensitive, as Graph's parser is. Errors carry ODataLib's
// messages ("… at position N in '…'"), which Graph returns after "Invalid filter clause: ".

// fexpr is a parsed $filter expression. String gives a canonical form that parses back to the
// same expression (the fuzz target checks it).
type fexpr interface{ String() string }

type (
	// fLit is a literal; text is how it is written back.
	fLit struct {
		v    any // string, float64, bool or nil
		text string
	}
	// fPath is a property path; the first segment may be a lambda variable.
	fPath struct{ segs []string }
	// fNot is the not operator.
	fNot struct{ x fexpr }
	// fBin is and, or, or a comparison.
	fBin struct {
		op   string
		l, r fexpr
	}
	// fIn is x in (a, b, …).
	fIn struct {
		x    fexpr
		list []fexpr
	}
	// fCall is a function call.
	fCall struct {
		name string
		args []fexpr
	}
	// fLambda is coll/any(v:body), coll/all(v:body) or coll/any().
	fLambda struct {
		coll fPath
		kind string // any | all
		v    string
		body fexpr // nil for any()
	}
)

func (l fLit) String() string { return l.text }
func (p fPath) String() string {
	return strings.Join(p.segs, "/")
}
func (n fNot) String() string { return "not " + n.x.String() }
func (b fBin) String() string {
	return "(" + b.l.String() + " " + b.op + " " + b.r.String() + ")"
}
func (in fIn) String() string {
	parts := make([]string, len(in.list))
	for i, x := range in.list {
		parts[i] = x.String()
	}
	return "(" + in.x.String() + " in (" + strings.Join(parts, ",") + "))"
}
func (c fCall) String() string {
	parts := make([]string, len(c.args))
	for i, x := range c.args {
		parts[i] = x.String()
	}
	return c.name + "(" + strings.Join(parts, ",") + ")"
}
func (l fLambda) String() string {
	if l.body == nil {
		return l.coll.String() + "/" + l.kind + "()"
	}
	return l.coll.String() + "/" + l.kind + "(" + l.v + ":" + l.body.String() + ")"
}

// filterError is a syntax error, worded as Graph words it.
type filterError struct{ msg string }

func (e *filterError) Error() string { return "Invalid filter clause: " + e.msg }

// ---- lexer ----

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber // also GUIDs and dates, kept as text
	tPunct
)

type token struct {
	kind tokKind
	text string // identifiers and punctuation as written; strings unescaped
	raw  string // literal as written (quotes included)
	pos  int
}

var (
	guidRE   = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)
	dateRE   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))?`)
	numberRE = regexp.MustCompile(`^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?`)
	identRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*`)
)

func lexFilter(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.IndexByte("(),:/", c) >= 0:
			toks = append(toks, token{kind: tPunct, text: string(c), pos: i})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, &filterError{fmt.Sprintf("There is an unterminated string literal at position %d in '%s'.", i, src)}
				}
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(src[j])
				j++
			}
			toks = append(toks, token{kind: tString, text: b.String(), raw: src[i : j+1], pos: i})
			i = j + 1
		default:
			rest := src[i:]
			if m := guidRE.FindString(rest); m != "" && !isIdentByte(rest, len(m)) {
				toks = append(toks, token{kind: tNumber, text: m, raw: m, pos: i})
				i += len(m)
				continue
			}
			if m := dateRE.FindString(rest); m != "" && len(m) >= 10 && !isIdentByte(rest, len(m)) {
				toks = append(toks, token{kind: tNumber, text: m, raw: m, pos: i})
				i += len(m)
				continue
			}
			if m := numberRE.FindString(rest); m != "" {
				if _, err := strconv.ParseFloat(m, 64); err != nil || isIdentByte(rest, len(m)) {
					return nil, &filterError{fmt.Sprintf("Syntax error at position %d in '%s'.", i, src)}
				}
				toks = append(toks, token{kind: tNumber, text: m, raw: m, pos: i})
				i += len(m)
				continue
			}
			if m := identRE.FindString(rest); m != "" {
				toks = append(toks, token{kind: tIdent, text: m, raw: m, pos: i})
				i += len(m)
				continue
			}
			return nil, &filterError{fmt.Sprintf("Syntax error: character '%s' is not valid at position %d in '%s'.", firstRune(rest), i, src)}
		}
	}
	return append(toks, token{kind: tEOF, pos: len(src)}), nil
}

func isIdentByte(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	c := s[i]
	return c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func firstRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

// ---- parser ----

// filterFuncs are the functions the parser knows, with their arity.
var filterFuncs = map[string]int{"startswith": 2, "endswith": 2, "contains": 2}

var comparisonOps = map[string]bool{"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true}

var reservedWords = map[string]bool{"and": true, "or": true, "not": true, "in": true, "eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true}

type filterParser struct {
	src   string
	toks  []token
	i     int
	depth int
}

// maxFilterDepth bounds nesting, so a hostile filter cannot exhaust the stack.
const maxFilterDepth = 100

// parseFilter parses a $filter value.
func parseFilter(src string) (fexpr, error) {
	toks, err := lexFilter(src)
	if err != nil {
		return nil, err
	}
	p := &filterParser{src: src, toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt("Syntax error at position %d in '%s'.", t.pos)
	}
	return e, nil
}

func (p *filterParser) peek() token { return p.toks[p.i] }
func (p *filterParser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *filterParser) errAt(format string, pos int) error {
	return &filterError{fmt.Sprintf(format, pos, p.src)}
}

func (p *filterParser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, w)
}

func (p *filterParser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *filterParser) or() (fexpr, error) { return p.chain("or", p.and) }

func (p *filterParser) and() (fexpr, error) { return p.chain("and", p.cmp) }

// chain parses operands joined by the keyword op, left-associative.
func (p *filterParser) chain(op string, operand func() (fexpr, error)) (fexpr, error) {
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for p.isWord(op) {
		p.next()
		r, err := operand()
		if err != nil {
			return nil, err
		}
		l = fBin{op: op, l: l, r: r}
	}
	return l, nil
}

func (p *filterParser) cmp() (fexpr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tIdent {
			return l, nil
		}
		op := strings.ToLower(t.text)
		switch {
		case comparisonOps[op]:
			p.next()
			r, err := p.unary()
			if err != nil {
				return nil, err
			}
			l = fBin{op: op, l: l, r: r}
		case op == "in":
			p.next()
			if !p.isPunct("(") {
				return nil, p.errAt("'(' expected at position %d in '%s'.", p.peek().pos)
			}
			p.next()
			var list []fexpr
			for {
				x, err := p.primary()
				if err != nil {
					return nil, err
				}
				if _, ok := x.(fLit); !ok {
					return nil, p.errAt("Syntax error at position %d in '%s'.", t.pos)
				}
				list = append(list, x)
				if p.isPunct(",") {
					p.next()
					continue
				}
				if !p.isPunct(")") {
					return nil, p.errAt("')' or ',' expected at position %d in '%s'.", p.peek().pos)
				}
				p.next()
				break
			}
			l = fIn{x: l, list: list}
		default:
			return l, nil
		}
	}
}

func (p *filterParser) unary() (fexpr, error) {
	if p.isWord("not") {
		p.next()
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxFilterDepth {
			return nil, p.errAt("Recursion depth exceeded at position %d in '%s'.", p.peek().pos)
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return fNot{x: x}, nil
	}
	return p.primary()
}

func (p *filterParser) primary() (fexpr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxFilterDepth {
		return nil, p.errAt("Recursion depth exceeded at position %d in '%s'.", p.peek().pos)
	}
	t := p.next()
	switch t.kind {
	case tEOF:
		return nil, p.errAt("Expression expected at position %d in '%s'.", t.pos)
	case tString:
		return fLit{v: t.text, text: quoteFilter(t.text)}, nil
	case tNumber:
		if guidRE.MatchString(t.text) || dateRE.MatchString(t.text) && len(t.text) >= 10 && strings.Count(t.text, "-") >= 2 {
			return fLit{v: t.text, text: t.text}, nil
		}
		f, _ := strconv.ParseFloat(t.text, 64)
		return fLit{v: f, text: t.text}, nil
	case tPunct:
		if t.text != "(" {
			return nil, p.errAt("Expression expected at position %d in '%s'.", t.pos)
		}
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.isPunct(")") {
			return nil, p.errAt("')' or operator expected at position %d in '%s'.", p.peek().pos)
		}
		p.next()
		return e, nil
	}
	// an identifier
	word := strings.ToLower(t.text)
	switch word {
	case "true", "false":
		return fLit{v: word == "true", text: word}, nil
	case "null":
		return fLit{v: nil, text: "null"}, nil
	}
	if reservedWords[word] {
		return nil, p.errAt("Expression expected at position %d in '%s'.", t.pos)
	}
	if p.isPunct("(") {
		arity, ok := filterFuncs[word]
		if !ok {
			return nil, &filterError{fmt.Sprintf("An unknown function with name '%s' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.", t.text)}
		}
		p.next()
		var args []fexpr
		for {
			a, err := p.or()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if p.isPunct(",") {
				p.next()
				continue
			}
			if !p.isPunct(")") {
				return nil, p.errAt("')' or ',' expected at position %d in '%s'.", p.peek().pos)
			}
			p.next()
			break
		}
		if len(args) != arity {
			return nil, &filterError{fmt.Sprintf("No function signature for the function with name '%s' matches the specified arguments.", t.text)}
		}
		return fCall{name: word, args: args}, nil
	}
	path := fPath{segs: []string{t.text}}
	for p.isPunct("/") {
		p.next()
		s := p.next()
		if s.kind != tIdent {
			return nil, p.errAt("Syntax error at position %d in '%s'.", s.pos)
		}
		kind := strings.ToLower(s.text)
		if (kind == "any" || kind == "all") && p.isPunct("(") {
			p.next()
			lam := fLambda{coll: path, kind: kind}
			if p.isPunct(")") && kind == "any" {
				p.next()
				return lam, nil
			}
			v := p.next()
			if v.kind != tIdent || reservedWords[strings.ToLower(v.text)] {
				return nil, p.errAt("Syntax error at position %d in '%s'.", v.pos)
			}
			if !p.isPunct(":") {
				return nil, p.errAt("':' expected at position %d in '%s'.", p.peek().pos)
			}
			p.next()
			body, err := p.or()
			if err != nil {
				return nil, err
			}
			if !p.isPunct(")") {
				return nil, p.errAt("')' or operator expected at position %d in '%s'.", p.peek().pos)
			}
			p.next()
			lam.v, lam.body = v.text, body
			return lam, nil
		}
		path.segs = append(path.segs, s.text)
	}
	return path, nil
}

// quoteFilter writes a string literal with OData's ” escaping.
func quoteFilter(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ---- analysis ----

// filterProps lists the top-level properties a filter reads (not lambda variables).
func filterProps(e fexpr) []string {
	var out []string
	var walk func(e fexpr, vars map[string]bool)
	walk = func(e fexpr, vars map[string]bool) {
		switch x := e.(type) {
		case fPath:
			if !vars[x.segs[0]] {
				out = append(out, x.segs[0])
			}
		case fNot:
			walk(x.x, vars)
		case fBin:
			walk(x.l, vars)
			walk(x.r, vars)
		case fIn:
			walk(x.x, vars)
			for _, y := range x.list {
				walk(y, vars)
			}
		case fCall:
			for _, a := range x.args {
				walk(a, vars)
			}
		case fLambda:
			walk(x.coll, vars)
			if x.body != nil {
				inner := map[string]bool{x.v: true}
				for k := range vars {
					inner[k] = true
				}
				walk(x.body, inner)
			}
		}
	}
	walk(e, map[string]bool{})
	return out
}

// advancedOperator names the first operator in e that Graph serves only as an advanced query
// (ConsistencyLevel: eventual and $count=true), or "".
func advancedOperator(e fexpr) string {
	switch x := e.(type) {
	case fNot:
		return "not"
	case fBin:
		if x.op == "ne" {
			return "ne"
		}
		if op := advancedOperator(x.l); op != "" {
			return op
		}
		return advancedOperator(x.r)
	case fIn:
		return advancedOperator(x.x)
	case fCall:
		if x.name == "endswith" {
			return "endsWith"
		}
		for _, a := range x.args {
			if op := advancedOperator(a); op != "" {
				return op
			}
		}
	case fLambda:
		if x.body != nil {
			return advancedOperator(x.body)
		}
	}
	return ""
}

// usesFunc reports whether e calls the function name.
func usesFunc(e fexpr, name string) bool {
	switch x := e.(type) {
	case fNot:
		return usesFunc(x.x, name)
	case fBin:
		return usesFunc(x.l, name) || usesFunc(x.r, name)
	case fIn:
		return usesFunc(x.x, name)
	case fCall:
		if x.name == name {
			return true
		}
		for _, a := range x.args {
			if usesFunc(a, name) {
				return true
			}
		}
	case fLambda:
		return x.body != nil && usesFunc(x.body, name)
	}
	return false
}

// ---- evaluation ----

// evalFilter reports whether obj (a rendered object, as JSON decodes it) matches e.
func evalFilter(e fexpr, obj map[string]any) (bool, error) {
	return evalBool(e, obj, nil)
}

func evalBool(e fexpr, obj map[string]any, env map[string]any) (bool, error) {
	v, err := evalValue(e, obj, env)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, &filterError{fmt.Sprintf("The expression '%s' is not a Boolean.", e.String())}
	}
	return b, nil
}

func evalValue(e fexpr, obj map[string]any, env map[string]any) (any, error) {
	switch x := e.(type) {
	case fLit:
		return x.v, nil
	case fPath:
		var cur any
		segs := x.segs
		if v, ok := env[segs[0]]; ok {
			cur = v
		} else {
			cur = obj[segs[0]]
		}
		for _, s := range segs[1:] {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, nil
			}
			cur = m[s]
		}
		return cur, nil
	case fNot:
		b, err := evalBool(x.x, obj, env)
		return !b, err
	case fBin:
		switch x.op {
		case "and", "or":
			l, err := evalBool(x.l, obj, env)
			if err != nil {
				return nil, err
			}
			r, err := evalBool(x.r, obj, env)
			if err != nil {
				return nil, err
			}
			if x.op == "and" {
				return l && r, nil
			}
			return l || r, nil
		}
		l, err := evalValue(x.l, obj, env)
		if err != nil {
			return nil, err
		}
		r, err := evalValue(x.r, obj, env)
		if err != nil {
			return nil, err
		}
		return compareValues(x.op, l, r), nil
	case fIn:
		v, err := evalValue(x.x, obj, env)
		if err != nil {
			return nil, err
		}
		for _, y := range x.list {
			w, _ := evalValue(y, obj, env)
			if compareValues("eq", v, w) {
				return true, nil
			}
		}
		return false, nil
	case fCall:
		a, err := evalValue(x.args[0], obj, env)
		if err != nil {
			return nil, err
		}
		b, err := evalValue(x.args[1], obj, env)
		if err != nil {
			return nil, err
		}
		as, ok1 := a.(string)
		bs, ok2 := b.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		as, bs = strings.ToLower(as), strings.ToLower(bs)
		switch x.name {
		case "startswith":
			return strings.HasPrefix(as, bs), nil
		case "endswith":
			return strings.HasSuffix(as, bs), nil
		default:
			return strings.Contains(as, bs), nil
		}
	case fLambda:
		cv, _ := evalValue(x.coll, obj, env)
		items, _ := cv.([]any)
		if x.body == nil {
			return len(items) > 0, nil
		}
		inner := map[string]any{}
		for k, v := range env {
			inner[k] = v
		}
		for _, it := range items {
			inner[x.v] = it
			ok, err := evalBool(x.body, obj, inner)
			if err != nil {
				return nil, err
			}
			if x.kind == "any" && ok {
				return true, nil
			}
			if x.kind == "all" && !ok {
				return false, nil
			}
		}
		return x.kind == "all", nil
	}
	return nil, fmt.Errorf("filter: unknown node %T", e)
}

// compareValues compares as directory queries do: strings (GUIDs included) case-insensitively,
// dates as instants, numbers numerically; null equals only null.
func compareValues(op string, a, b any) bool {
	if a == nil || b == nil {
		switch op {
		case "eq":
			return a == nil && b == nil
		case "ne":
			return !(a == nil && b == nil)
		}
		return false
	}
	c, ok := order(a, b)
	if !ok {
		return op == "ne"
	}
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

func order(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		if ta, err := time.Parse(time.RFC3339Nano, x); err == nil {
			if tb, err := parseFilterTime(y); err == nil {
				return ta.Compare(tb), true
			}
		}
		return strings.Compare(strings.ToLower(x), strings.ToLower(y)), true
	case float64:
		y, ok := b.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		if x == y {
			return 0, true
		}
		if !x {
			return -1, true
		}
		return 1, true
	}
	return 0, false
}

func parseFilterTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}
