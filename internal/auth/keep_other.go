//go:build !linux

package auth

import (
	"os"
	"path/filepath"
	"runtime"
)

// identityServiceDir is the persistent cache's folder, as azidentity/cache v0.4.0 names it:
// the home folder on macOS (the data itself is in the Keychain), the local application data
// folder on Windows.
func identityServiceDir() (string, error) {
	var d string
	var err error
	if runtime.GOOS == "darwin" {
		d, err = os.UserHomeDir()
	} else {
		d, err = os.UserCacheDir()
	}
	if err != nil {
		return "", err
	}
	return filepath.Join(d, ".IdentityService"), nil
}

// forgetKey does nothing here: on Windows the data is in the cache file (removed), on macOS
// the Keychain item stays until it is overwritten by the next sign-in.
func forgetKey(string) {}
