package auth

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// identityServiceDir is the persistent cache's folder, as azidentity/cache v0.4.0 names it on
// Linux: $XDG_CACHE_HOME/.IdentityService, else ~/.cache/.IdentityService.
func identityServiceDir() (string, error) {
	d := os.Getenv("XDG_CACHE_HOME")
	if d == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		d = filepath.Join(home, ".cache")
	}
	return filepath.Join(d, ".IdentityService"), nil
}

// forgetKey invalidates the keyring key that encrypted a cache (its description is the
// cache's name), so nothing of a signed-out sign-in stays readable. Best effort: without the
// key the cache file is unreadable anyway, and the key goes at the next restart.
func forgetKey(name string) {
	ring, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, false)
	if err != nil {
		return
	}
	rings := []int{ring}
	if p, err := unix.KeyctlInt(unix.KEYCTL_GET_PERSISTENT, -1, ring, 0, 0); err == nil {
		rings = append([]int{p}, rings...)
	}
	for _, r := range rings {
		for range 4 { // a key per sign-in; a few stale ones at most
			id, err := unix.KeyctlSearch(r, "user", name, 0)
			if err != nil {
				break
			}
			if _, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0); err != nil {
				if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, r, 0, 0); err != nil {
					break
				}
			}
		}
	}
}
