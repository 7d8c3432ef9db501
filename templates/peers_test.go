package templates

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// peerEnvFiles writes every sample's .env plus a file of awkward values, and returns the paths
// with what the editor says each key holds.
func peerEnvFiles(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	all, _ := samples.All()
	cert := testCert(t)
	for _, m := range all {
		dir := fixtureDir(t, m)
		res, err := Write(context.Background(), m, dir, testValues(m, cert), Options{Rand: seeded(1)})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Files {
			if strings.HasSuffix(f.Rel, ".env") {
				out[f.Path] = editorView(t, f.Path)
			}
		}
	}
	// Values that need quotes, on LF and on CRLF lines, with export and inline comments.
	for name, eol := range map[string]string{"lf.env": "\n", "crlf.env": "\r\n"} {
		src := strings.ReplaceAll("# comment\nexport A=old # keep me\nB=\"x\"\nC='y'\n", "\n", eol)
		ef, err := ParseEnv([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{"A": "p@ss w#rd\"$x", "B": "it's", "C": "abc~._-123", "D": "sp ace", "E": ""} {
			if err := ef.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, ef.Bytes(), 0o600)
		checkParses(t, name, ef.Bytes()) // godotenv
		out[p] = editorView(t, p)
	}
	return out
}

func editorView(t *testing.T, p string) map[string]string {
	b, _ := os.ReadFile(p)
	ef, err := ParseEnv(b)
	if err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{}
	for _, k := range ef.Keys() {
		kv[k], _ = ef.Get(k)
	}
	return kv
}

func comparePeer(t *testing.T, peer, path string, got []byte, want map[string]string) {
	t.Helper()
	var kv map[string]string
	if err := json.Unmarshal(got, &kv); err != nil {
		t.Fatalf("%s: %v: %s", peer, err, got)
	}
	for k, v := range want {
		if kv[k] != v {
			t.Errorf("%s reads %s=%q from %s; the editor wrote %q", peer, k, kv[k], filepath.Base(path), v)
		}
	}
}

func TestNodeDotenvReadsWrittenFiles(t *testing.T) {
	dir, node := testenv.NodeDir(t)
	for p, want := range peerEnvFiles(t) {
		script := `const r = require('dotenv').parse(require('fs').readFileSync(process.argv[1])); process.stdout.write(JSON.stringify(r));`
		cmd := exec.Command(node, "-e", script, p)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node: %v", err)
		}
		comparePeer(t, "Node's dotenv", p, out, want)
	}
}

func TestPythonDotenvReadsWrittenFiles(t *testing.T) {
	py := testenv.Python(t, "dotenv")
	for p, want := range peerEnvFiles(t) {
		script := `import sys, json; from dotenv import dotenv_values; sys.stdout.write(json.dumps(dotenv_values(sys.argv[1], interpolate=True)))`
		out, err := exec.Command(py, "-c", script, p).Output()
		if err != nil {
			t.Fatalf("python: %v", err)
		}
		comparePeer(t, "python-dotenv", p, out, want)
	}
}
