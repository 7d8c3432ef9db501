package emulator

import (
	"strings"
	"testing"
)

func TestFilterParse(t *testing.T) {
	cases := []struct {
		in, canon string
	}{
		{"appId eq '00000003-0000-0000-c000-000000000000'", "(appId eq '00000003-0000-0000-c000-000000000000')"},
		{"displayName eq 'O''Brien'", "(displayName eq 'O''Brien')"},
		{"startswith(displayName,'Sample')", "startswith(displayName,'Sample')"},
		{"startsWith(displayName, 'a') AND tags/ANY(t: t eq 'x')", "(startswith(displayName,'a') and tags/any(t:(t eq 'x')))"},
		{"tags/any(t:t eq 'sample-wizard') and startswith(displayName,'Sample')", "(tags/any(t:(t eq 'sample-wizard')) and startswith(displayName,'Sample'))"},
		{"a eq 1 or b eq 2 and c eq 3", "((a eq 1) or ((b eq 2) and (c eq 3)))"},
		{"(a eq 1 or b eq 2) and c eq 3", "(((a eq 1) or (b eq 2)) and (c eq 3))"},
		{"not(displayName eq 'x')", "not (displayName eq 'x')"},
		{"NOT tags/any(c:c eq 'Unified')", "not tags/any(c:(c eq 'Unified'))"},
		{"id in ('a','b')", "(id in ('a','b'))"},
		{"displayName eq null", "(displayName eq null)"},
		{"accountEnabled eq true", "(accountEnabled eq true)"},
		{"createdDateTime ge 2024-01-01T00:00:00Z", "(createdDateTime ge 2024-01-01T00:00:00Z)"},
		{"clientId eq 9e8a1b7c-0000-4000-8000-000000000001", "(clientId eq 9e8a1b7c-0000-4000-8000-000000000001)"},
		{"requiredResourceAccess/any(r:r/resourceAccess/any(a:a/id eq 'e1'))", "requiredResourceAccess/any(r:r/resourceAccess/any(a:(a/id eq 'e1')))"},
		{"tags/any()", "tags/any()"},
		{"n le -1.5e3", "(n le -1.5e3)"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			e, err := parseFilter(tc.in)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := e.String(); got != tc.canon {
				t.Fatalf("canonical form %q, want %q", got, tc.canon)
			}
		})
	}
}

func TestFilterParseErrors(t *testing.T) {
	cases := []struct{ in, msg string }{
		{"displayName eq 'abc", "Invalid filter clause: There is an unterminated string literal at position 15 in 'displayName eq 'abc'."},
		{"displayName eq", "Invalid filter clause: Expression expected at position 14 in 'displayName eq'."},
		{"startswith(displayName 'a')", "Invalid filter clause: ')' or ',' expected at position 23 in 'startswith(displayName 'a')'."},
		{"(a eq 1", "Invalid filter clause: ')' or operator expected at position 7 in '(a eq 1'."},
		{"a eq 1 b", "Invalid filter clause: Syntax error at position 7 in 'a eq 1 b'."},
		{"a eq #", "Invalid filter clause: Syntax error: character '#' is not valid at position 5 in 'a eq #'."},
		{"frobnicate(a)", "Invalid filter clause: An unknown function with name 'frobnicate' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed."},
		{"startswith(a)", "Invalid filter clause: No function signature for the function with name 'startswith' matches the specified arguments."},
		{"and eq 1", "Invalid filter clause: Expression expected at position 0 in 'and eq 1'."},
		{"tags/any(t t eq 'x')", "Invalid filter clause: ':' expected at position 11 in 'tags/any(t t eq 'x')'."},
		{"", "Invalid filter clause: Expression expected at position 0 in ''."},
		{strings.Repeat("(", 200) + "a eq 1" + strings.Repeat(")", 200), ""},
	}
	for _, tc := range cases {
		name := tc.in
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			_, err := parseFilter(tc.in)
			if err == nil {
				t.Fatalf("parsed")
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Fatalf("error %q\nwant  %q", err, tc.msg)
			}
		})
	}
}

func TestFilterEval(t *testing.T) {
	obj := map[string]any{
		"appId":           "AB12CD34-0000-4000-8000-000000000001",
		"displayName":     "Sample Web App",
		"tags":            []any{"entra-quickstart", "sample:node-workforce"},
		"createdDateTime": "2026-11-23T10:00:00.0000000Z",
		"notes":           nil,
		"accountEnabled":  true,
		"requiredResourceAccess": []any{map[string]any{
			"resourceAppId":  GraphAppID,
			"resourceAccess": []any{map[string]any{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}},
		}},
	}
	cases := []struct {
		f    string
		want bool
	}{
		{"appId eq 'ab12cd34-0000-4000-8000-000000000001'", true},
		{"displayName eq 'sample web app'", true},
		{"startswith(displayName,'sample')", true},
		{"endswith(displayName,'App')", true},
		{"tags/any(t:t eq 'entra-quickstart')", true},
		{"tags/any(t:startswith(t,'sample:'))", true},
		{"tags/all(t:startswith(t,'sample:'))", false},
		{"tags/any(t:t eq 'nope')", false},
		{"tags/any()", true},
		{"displayName in ('x','Sample Web App')", true},
		{"notes eq null", true},
		{"notes ne null", false},
		{"displayName ne 'x' and not(accountEnabled eq false)", true},
		{"createdDateTime ge 2026-11-01T00:00:00Z and createdDateTime lt 2026-12-01", true},
		{"requiredResourceAccess/any(r:r/resourceAccess/any(a:a/id eq 'E1FE6DD8-BA31-4D61-89E7-88639DA4683D'))", true},
		{"missing eq 'x' or displayName eq 'nope'", false},
	}
	for _, tc := range cases {
		t.Run(tc.f, func(t *testing.T) {
			e, err := parseFilter(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := evalFilter(e, obj)
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	// A non-Boolean filter is an error, not a silent false.
	e, _ := parseFilter("displayName")
	if _, err := evalFilter(e, obj); err == nil {
		t.Fatalf("a non-Boolean filter evaluated")
	}
}

func TestFilterAnalysis(t *testing.T) {
	cases := []struct {
		f, advanced string
		props       string
	}{
		{"appId eq 'x' and tags/any(t:t eq 'y')", "", "appId,tags"},
		{"displayName ne 'x'", "ne", "displayName"},
		{"not(startswith(displayName,'a'))", "not", "displayName"},
		{"endswith(displayName,'a')", "endsWith", "displayName"},
		{"tags/any(t:t ne 'x')", "ne", "tags"},
	}
	for _, tc := range cases {
		e, err := parseFilter(tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if got := advancedOperator(e); got != tc.advanced {
			t.Errorf("%s: advanced %q, want %q", tc.f, got, tc.advanced)
		}
		if got := strings.Join(filterProps(e), ","); got != tc.props {
			t.Errorf("%s: props %q, want %q", tc.f, got, tc.props)
		}
	}
}

// FuzzFilter: any input either fails with a filterError or parses to an expression whose
// canonical form parses back to itself; evaluation never panics.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		"appId eq '00000003-0000-0000-c000-000000000000'",
		"tags/any(t:t eq 'sample-wizard') and startswith(displayName,'Sample')",
		"displayName in ('a','b') or not(displayName eq null)",
		"createdDateTime ge 2024-01-01T00:00:00Z",
		"requiredResourceAccess/any(r:r/resourceAccess/any(a:a/id eq 'x'))",
		"displayName eq 'O''Brien'",
		"((a eq 1))",
		"n le -1.5e3",
	} {
		f.Add(s)
	}
	obj := map[string]any{"displayName": "O'Brien", "tags": []any{"a", map[string]any{"id": "x"}}, "n": 3.0, "appId": GraphAppID}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseFilter(s)
		if err != nil {
			if _, ok := err.(*filterError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		canon := e.String()
		e2, err := parseFilter(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if e2.String() != canon {
			t.Fatalf("canonical form not stable: %q -> %q", canon, e2.String())
		}
		_, _ = evalFilter(e, obj)
		_ = advancedOperator(e)
		_ = filterProps(e)
	})
}
