//go:build unix

package cli

import (
	"os"
	"strconv"
	"syscall"
	"testing"
)

// fsizeHelper returns the command that runs a program under a file-size limit: this test
// binary, as TestFileSizeLimitHelper, followed by the limit in bytes and the program's argv.
func fsizeHelper(t *testing.T) ([]string, bool) {
	t.Setenv("ENTRA_QUICKSTART_FSIZE_HELPER", "1")
	return []string{os.Args[0], "-test.run=^TestFileSizeLimitHelper$", "--"}, true
}

// TestFileSizeLimitHelper is not a test: run by fsizeHelper's command, it sets RLIMIT_FSIZE
// and replaces itself with the program, so a write beyond the limit fails with EFBIG (Go
// programs ignore SIGXFSZ), as on a full disk.
func TestFileSizeLimitHelper(t *testing.T) {
	if os.Getenv("ENTRA_QUICKSTART_FSIZE_HELPER") != "1" {
		t.Skip("a helper process for the full-disk cases of TestBadInput")
	}
	args := flagArgs()
	if len(args) < 2 {
		t.Fatal("usage: -- LIMIT PROGRAM [ARGS...]")
	}
	n, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
		t.Fatal(err)
	}
	t.Fatal(syscall.Exec(args[1], args[1:], os.Environ()))
}

// flagArgs are the arguments after "--".
func flagArgs() []string {
	for i, a := range os.Args {
		if a == "--" {
			return os.Args[i+1:]
		}
	}
	return nil
}
