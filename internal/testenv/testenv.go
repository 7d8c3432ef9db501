// Package testenv finds the outside tools tests run against (chromium, node with the peers in
// testdata/node, Debian's python3 with msal and dotenv) and decides what a missing one means:
// a skip on a developer's machine, a failure under CI, where `make test` must have installed it.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true or any non-empty CI value but "false").
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Missing skips the test, or fails it under CI, because what is named is not installed.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is missing under CI; `make test` installs it (%s)", what, install)
	}
	t.Skipf("%s is missing: run `make test` (or %s) to install it", what, install)
}

// RepoRoot is the module root, found from this source file's place in the tree.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Chromium returns the path of Debian's chromium.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(t, "chromium", "apt-get install chromium")
	return ""
}

// NodeDir returns testdata/node with its node_modules installed, and the node binary.
func NodeDir(t testing.TB) (dir, node string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node", "apt-get install nodejs npm")
	}
	dir = filepath.Join(RepoRoot(), "testdata", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@azure", "msal-node")); err != nil {
		Missing(t, "the npm test peers in testdata/node", "cd testdata/node && npm ci")
	}
	return dir, node
}

// Python returns Debian's python3, which has python3-msal and python3-dotenv (a pyenv python
// earlier on PATH would not see Debian's packages).
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		Missing(t, "Debian's python3", "apt-get install python3")
	}
	for _, m := range modules {
		if err := exec.Command(py, "-c", "import "+m).Run(); err != nil {
			Missing(t, "python module "+m, "apt-get install python3-msal python3-dotenv")
		}
	}
	return py
}
