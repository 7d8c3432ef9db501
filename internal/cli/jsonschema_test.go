package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
	"github.com/entra-quickstart/entra-quickstart/internal/ui"
)

// The --json results are documented by one JSON Schema per command under docs/json. The
// schemas are made from the Go result types (so they cannot drift from the code: -update
// rewrites them) and every command's real output, against the emulator, is checked against
// its schema by a small validator of the subset the schemas use.

// jsonCommand is one command whose --json result has a schema.
type jsonCommand struct {
	name   string // the schema's file: docs/json/<name>.schema.json
	result any    // its result type
	about  string
	// args are the command line (the emulator's flags and --json are added); nil: the schema
	// is checked against the type only, and the command's output elsewhere.
	args []string
	code int // its expected exit code
}

// jsonCommands lists every command with a --json result, in the order they run (each may
// use what the one before made). A new command adds a row.
func jsonCommands(dir, labDir, upn, tenant string) []jsonCommand {
	return []jsonCommand{
		{name: "version", result: versionResult{}, about: "entra-quickstart version --json: the version of the tool.",
			args: []string{"version"}},
		{name: "init", result: InitResult{}, about: "entra-quickstart init --json: the app registration made or updated, the files written and the sign-in check (verify).",
			args: []string{"init", "--sample", "node-workforce", "--yes", "--auto-sign-in", "--dir", dir}},
		{name: "verify", result: checkResult{}, about: "entra-quickstart verify --json: the sign-in check's report, step by step, each failure with its diagnosis.",
			args: []string{"verify", "--dir", dir, "--auto-sign-in"}},
		{name: "doctor", result: DoctorResult{}, about: "entra-quickstart doctor --json: each check of the folder's configuration against its registration, with the fix of each problem.",
			args: []string{"doctor", "--dir", dir}},
		{name: "list", result: listResult{}, about: "entra-quickstart list --json: the app registrations this tool made, deleted-but-not-purged ones included.",
			args: []string{"list"}},
		{name: "lab-provision", result: labProvisionResult{}, about: "entra-quickstart lab provision --json: one app registration and bundle per attendee.",
			args: []string{"lab", "provision", "--name", "schema", "--sample", "node-workforce", "--attendees", "2", "--dir", labDir, "--yes"}},
		{name: "lab-status", result: labStatusResult{}, about: "entra-quickstart lab status --json: each attendee's app and whether its credential works.",
			args: []string{"lab", "status", "--name", "schema", "--dir", labDir}},
		{name: "lab-reset", result: labResetResult{}, about: "entra-quickstart lab reset --json: the lab's app registrations deleted and purged.",
			args: []string{"lab", "reset", "--name", "schema", "--yes"}},
		{name: "reset", result: ResetResult{}, about: "entra-quickstart reset --json: the app registrations deleted and purged.",
			args: []string{"reset", "--yes"}},
		// run starts a sample and ends at Ctrl-C: its result is checked against the type here,
		// and its output in run_test.go.
		{name: "run", result: runResult{}, about: "entra-quickstart run --json: the sample's run and each step of the sign-in watched while it ran."},
		{name: "auth-login", result: authLoginResult{}, about: "entra-quickstart auth login --json: who signed in, where and with which permissions (never a token).",
			args: []string{"auth", "login", "--emulator-user", upn, "--tenant", tenant}},
		{name: "auth-status", result: authStatusResult{}, about: "entra-quickstart auth status --json: the sign-ins kept on this machine (never a token).",
			args: []string{"auth", "status"}},
		{name: "auth-logout", result: authLogoutResult{}, about: "entra-quickstart auth logout --json: the sign-ins forgotten.",
			args: []string{"auth", "logout"}},
	}
}

func TestJSONSchemas(t *testing.T) {
	home(t)
	e, base := remoteEmulator(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // auth login keeps its sign-in here, not in the person's
	ti, admin := e.Admin(t, emuclient.Workforce)
	dir, labDir := t.TempDir(), t.TempDir()
	for _, c := range jsonCommands(dir, labDir, admin.UserPrincipalName, ti.ID) {
		t.Run(c.name, func(t *testing.T) {
			s := schemaFor(reflect.TypeOf(c.result))
			s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
			s["$id"] = "entra-quickstart/" + c.name + ".schema.json"
			s["title"] = c.name
			s["description"] = c.about + " Every result begins with ok and exit_code."
			b, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(testenv.RepoRoot(), "docs", "json", c.name+".schema.json")
			testkit.Golden(t, path, append(b, '\n'))
			var schema map[string]any
			if err := json.Unmarshal(b, &schema); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"ok", "exit_code"} {
				if !slices.Contains(anyStrings(schema["required"]), k) {
					t.Errorf("the result has no %s", k)
				}
			}
			if c.args == nil {
				return
			}
			args := append(append(append([]string{}, c.args...), base...), "--json", "--no-input")
			code, out, errOut := run(t, args...)
			if code != c.code {
				t.Fatalf("%v: exit %d, want %d\n%s", c.args, code, c.code, errOut)
			}
			var got any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("stdout is not one JSON value: %v\n%s", err, out)
			}
			if err := validate(schema, got, "$"); err != nil {
				t.Errorf("the output does not fit docs/json/%s.schema.json: %v\n%s", c.name, err, out)
			}
			// One JSON writer: indented by two spaces, as every result.
			if !strings.HasPrefix(out, "{\n  \"ok\": ") {
				t.Errorf("not formatted as the other results:\n%s", out)
			}
		})
	}
}

// TestValidatorRejects: the validator is not one that accepts everything.
func TestValidatorRejects(t *testing.T) {
	s := schemaFor(reflect.TypeOf(versionResult{}))
	b, _ := json.Marshal(s)
	var schema map[string]any
	_ = json.Unmarshal(b, &schema)
	for _, bad := range []string{`{"ok":true}`, `{"ok":"yes","exit_code":0,"version":"","go":"","os":"","arch":""}`,
		`{"ok":true,"exit_code":0,"version":"","go":"","os":"","arch":"","extra":1}`, `[]`,
		`{"ok":true,"exit_code":0.5,"version":"","go":"","os":"","arch":""}`} {
		var v any
		_ = json.Unmarshal([]byte(bad), &v)
		if validate(schema, v, "$") == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	good := `{"ok":true,"exit_code":0,"version":"v1","go":"go1","os":"linux","arch":"amd64"}`
	var v any
	_ = json.Unmarshal([]byte(good), &v)
	if err := validate(schema, v, "$"); err != nil {
		t.Errorf("rejected %s: %v", good, err)
	}
}

var (
	timeType   = reflect.TypeOf(time.Time{})
	marshaler  = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	secondsRE  = regexp.MustCompile(`Seconds$`)
	verdictTyp = reflect.TypeOf(ui.Verdict{})
)

// schemaFor is the JSON Schema of what encoding/json makes of t.
func schemaFor(t reflect.Type) map[string]any {
	nullable := false
	for t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	var s map[string]any
	switch {
	case t == timeType:
		s = map[string]any{"type": "string", "format": "date-time"}
	case t.Implements(marshaler) && secondsRE.MatchString(t.Name()):
		s = map[string]any{"type": "number"}
	case t.Implements(marshaler):
		s = map[string]any{} // its own encoding: any value
	default:
		switch t.Kind() {
		case reflect.Struct:
			s = structSchema(t)
		case reflect.Slice, reflect.Array:
			s = map[string]any{"type": "array", "items": schemaFor(t.Elem())}
			nullable = true // a nil slice is null
		case reflect.Map:
			s = map[string]any{"type": "object"}
			nullable = true
		case reflect.String:
			s = map[string]any{"type": "string"}
		case reflect.Bool:
			s = map[string]any{"type": "boolean"}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			s = map[string]any{"type": "integer"}
		case reflect.Float32, reflect.Float64:
			s = map[string]any{"type": "number"}
		default:
			s = map[string]any{}
		}
	}
	if nullable {
		if ty, ok := s["type"].(string); ok {
			s["type"] = []any{ty, "null"}
		}
	}
	return s
}

// structSchema is an object of the struct's JSON fields (embedded structs flattened, as
// encoding/json does); omitempty fields are optional, the others required, no others allowed.
func structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var req []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, dup := props[name]; dup {
				continue // the shallower field wins, as in encoding/json
			}
			p := schemaFor(f.Type)
			if t == verdictTyp {
				p["description"] = map[string]string{
					"ok":        "true when the command succeeded (exit_code 0)",
					"exit_code": "the exit code the process ends with: 0 ok, 1 the work failed, 2 a usage error, 130 interrupted (Ctrl-C), 143 stopped by SIGTERM",
				}[name]
			}
			props[name] = p
			if !strings.Contains(opts, "omitempty") {
				req = append(req, name)
			}
		}
	}
	walk(t)
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(req) > 0 {
		sort.Strings(req)
		s["required"] = req
	}
	return s
}

// validate checks v against the subset of JSON Schema the schemas use (type, properties,
// required, additionalProperties false, items, format date-time); any other keyword is an
// error, so the subset cannot silently pass a schema it does not understand.
func validate(s map[string]any, v any, at string) error {
	for k := range s {
		switch k {
		case "$schema", "$id", "title", "description", "type", "properties", "required", "additionalProperties", "items", "format":
		default:
			return fmt.Errorf("%s: the schema uses %q, which this validator does not check", at, k)
		}
	}
	if ty, ok := s["type"]; ok {
		types := anyStrings(ty)
		if s, ok := ty.(string); ok {
			types = []string{s}
		}
		if !slices.ContainsFunc(types, func(t string) bool { return isType(v, t) }) {
			return fmt.Errorf("%s: %s is not %v", at, kindOf(v), types)
		}
	}
	if f, ok := s["format"].(string); ok && f == "date-time" {
		if str, ok := v.(string); ok {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", at, str)
			}
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range anyStrings(s["required"]) {
			if _, ok := x[r]; !ok {
				return fmt.Errorf("%s: %s is missing", at, r)
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p, ok := props[k].(map[string]any)
			if !ok {
				if ap, ok := s["additionalProperties"].(bool); ok && !ap {
					return fmt.Errorf("%s: %s is not in the schema", at, k)
				}
				continue
			}
			if err := validate(p, x[k], at+"."+k); err != nil {
				return err
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range x {
				if err := validate(items, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func isType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	}
	return false
}

func kindOf(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T %v", v, v)
}

func anyStrings(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = x
	}
	return out
}
