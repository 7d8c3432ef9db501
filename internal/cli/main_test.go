package cli

import (
	"fmt"
	"os"
	"testing"
)

// TestMain gives this package's tests, and the binaries they run, a token cache folder of
// their own: a device-code sign-in is kept between commands (azidentity's persistent cache in
// $XDG_CACHE_HOME/.IdentityService), and the tests must neither leave files in the person's
// cache folder nor find a sign-in kept there.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "eq-cli-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
