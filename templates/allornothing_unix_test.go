//go:build unix

package templates

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/entra-quickstart/entra-quickstart/samples"
)

// A sample of several files is configured all or nothing: with a file-size limit that lets
// aspnet-workforce's appsettings files through but not its PFX (as a disk that fills up part
// way), the write fails and no file the sample reads has changed; the same write without the
// limit then completes.
func TestSeveralFilesAllOrNothing(t *testing.T) {
	m, _ := samples.Lookup("aspnet-workforce")
	dir := fixtureDir(t, m)
	before := readDir(t, dir)
	const limit = 1500 // above appsettings.json (about 1 KB written), below the PFX (about 2.5 KB)
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriteUnderFileSizeLimitHelper$")
	cmd.Env = append(os.Environ(), "EQ_FSIZE_DIR="+dir, "EQ_FSIZE_LIMIT="+strconv.Itoa(limit))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "file too large") {
		t.Fatalf("the write under a %d-byte limit: %v\n%s", limit, err, out)
	}
	after := readDir(t, dir)
	for name, b := range after {
		if strings.Contains(name, ".tmp") {
			t.Errorf("a temporary file was left behind: %s", name)
		}
		if strings.HasSuffix(name, ".bak") {
			continue // a copy of an original, harmless
		}
		if old, ok := before[name]; !ok || !bytes.Equal(old, b) {
			t.Errorf("%s changed although the write failed: the sample is half configured", name)
		}
	}
	if _, err := Write(context.Background(), m, dir, testValues(m, nil), Options{}); err != nil {
		t.Fatalf("the same write without the limit: %v", err)
	}
	if _, err := Read(m, dir); err != nil {
		t.Fatalf("read-back after the write: %v", err)
	}
}

// TestWriteUnderFileSizeLimitHelper is not a test: TestSeveralFilesAllOrNothing runs it in a
// process of its own under RLIMIT_FSIZE (writes beyond it fail with EFBIG; Go ignores SIGXFSZ).
func TestWriteUnderFileSizeLimitHelper(t *testing.T) {
	dir := os.Getenv("EQ_FSIZE_DIR")
	if dir == "" {
		t.Skip("a helper process for TestSeveralFilesAllOrNothing")
	}
	n, err := strconv.ParseUint(os.Getenv("EQ_FSIZE_LIMIT"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := samples.Lookup("aspnet-workforce")
	v := testValues(m, nil) // the certificate is made before the limit
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(context.Background(), m, dir, v, Options{Git: "none"}); err != nil {
		t.Fatal(err)
	}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
