package templates

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailscale/hujson"
)

func addFixtureSeeds(f *testing.F, suffix string) {
	filepath.WalkDir(upstreamDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(filepath.Base(p), suffix) {
			b, _ := os.ReadFile(p)
			f.Add(b, "CLIENT_ID", "aaaaaaaa-bbbb")
		}
		return nil
	})
}

// FuzzEnvSet: setting one key never drops, duplicates or changes another line, and the key
// then reads back as set.
func FuzzEnvSet(f *testing.F) {
	addFixtureSeeds(f, ".env")
	f.Add([]byte("export A=1 # c\r\nB='x'\r\n"), "A", "p@ss w#rd")
	f.Add([]byte("A=1\nA=2\n"), "A", "x")
	f.Add([]byte("X=\"a\\\"b\"\n#A=1"), "A", "it's")
	f.Fuzz(func(t *testing.T, src []byte, key, value string) {
		ef, err := ParseEnv(src)
		if err != nil {
			return
		}
		if !envAssign.MatchString(key+"=") || strings.ContainsAny(key, " \t=") {
			return
		}
		before := ef.lines
		beforeKeys := ef.Keys()
		if err := ef.Set(key, value); err != nil {
			return
		}
		out := ef.Bytes()
		again, err := ParseEnv(out)
		if err != nil {
			t.Fatalf("the result does not parse: %v\n%q", err, out)
		}
		if got, _ := again.Get(key); got != value {
			t.Fatalf("%s reads back %q, set %q", key, got, value)
		}
		// Every other line is still there, in order, byte for byte.
		others := func(lines []envLine) (texts []string) {
			for _, l := range lines {
				if l.key != key {
					texts = append(texts, l.text)
				}
			}
			return
		}
		kept, now := others(before), others(again.lines)
		if strings.Join(kept, "\n") != strings.Join(now, "\n") {
			t.Fatalf("other lines changed:\n%q\n%q", kept, now)
		}
		// The key appears as often as before, or once if it was new.
		count := func(keys []string) (n int) {
			for _, k := range keys {
				if k == key {
					n++
				}
			}
			return
		}
		want := count(beforeKeys)
		if want == 0 {
			want = 1
		}
		if got := count(again.Keys()); got != want {
			t.Fatalf("%s assigned %d times, want %d", key, got, want)
		}
	})
}

// FuzzEditJSON: editing valid JSON with comments always gives valid JSON with comments, where
// the edited pointer holds the value and the original is untouched.
func FuzzEditJSON(f *testing.F) {
	filepath.WalkDir(upstreamDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			b, _ := os.ReadFile(p)
			f.Add(b, "/AzureAd/ClientId", "x")
			f.Add(b, "/AzureAd/ClientCredentials/0/New", "y")
		}
		return nil
	})
	f.Add([]byte("{ // c\n}"), "/a/b/0/c", "v")
	f.Add([]byte("{\"a\": [1,],}"), "/a/1", "<&>")
	f.Add([]byte("[]"), "/0", "v")
	f.Fuzz(func(t *testing.T, src []byte, ptr, value string) {
		orig := bytes.Clone(src)
		out, err := EditJSON(src, []JSONEdit{{Pointer: ptr, Value: value}})
		if !bytes.Equal(src, orig) {
			t.Fatal("EditJSON modified its input")
		}
		if err != nil {
			return
		}
		v, err := hujson.Parse(bytes.Clone(bytes.TrimPrefix(out, bom)))
		if err != nil {
			t.Fatalf("the result is not JSON with comments: %v\n%s", err, out)
		}
		v.Standardize()
		if !json.Valid(v.Pack()) {
			t.Fatalf("the result is not valid JSON after comment stripping:\n%s", out)
		}
		got := v.Find(ptr)
		if got == nil {
			return // pointers with escapes or into scalars may legitimately not resolve the same way
		}
		if lit, ok := got.Value.(hujson.Literal); ok && lit.Kind() == '"' && lit.String() != value {
			t.Fatalf("%s holds %q, want %q", ptr, lit.String(), value)
		}
	})
}
