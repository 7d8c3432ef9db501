package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
	"github.com/entra-quickstart/entra-quickstart/internal/testkit"
	"github.com/entra-quickstart/entra-quickstart/samples"
)

// TestPinSamples: run pins the manifests it is asked for from the archives git made, and a
// manifest whose archive cannot be pinned is left byte for byte as it was.
func TestPinSamples(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(testenv.RepoRoot(), "samples", "manifests")
	for _, id := range []string{"node-workforce", "flask-workforce"} {
		b, err := os.ReadFile(filepath.Join(src, id+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, id+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	node, _ := samples.Lookup("node-workforce")
	gh := testkit.ServeGitHubArchives(t, node.Repository, node.Branch, map[string]string{node.Folder + "/app.js": "1\n"})
	opts := samples.DownloadOptions{BaseURL: gh.URL, Client: gh.Client}
	before, _ := os.ReadFile(filepath.Join(dir, "flask-workforce.json"))

	var out bytes.Buffer
	err := run(context.Background(), dir, "", opts, &out)
	if err == nil || !strings.Contains(err.Error(), "flask-workforce") {
		t.Fatalf("run: %v; want an error naming the sample it could not pin\n%s", err, out.String())
	}
	b, _ := os.ReadFile(filepath.Join(dir, "node-workforce.json"))
	m, err := samples.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Commit != gh.Head || len(m.ArchiveSHA256) != 64 {
		t.Errorf("node-workforce pinned to %q / %q, want the head %s and a SHA-256", m.Commit, m.ArchiveSHA256, gh.Head)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "flask-workforce.json")); !bytes.Equal(before, after) {
		t.Error("a manifest that could not be pinned was changed")
	}
	if !strings.Contains(out.String(), "node-workforce") || !strings.Contains(out.String(), gh.Head[:12]) {
		t.Errorf("output does not report the pin:\n%s", out.String())
	}

	out.Reset()
	if err := run(context.Background(), dir, "node-workforce", opts, &out); err != nil {
		t.Fatalf("-only node-workforce: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "flask") {
		t.Errorf("-only pinned another sample:\n%s", out.String())
	}
}
