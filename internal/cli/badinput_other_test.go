//go:build !unix

package cli

import "testing"

// fsizeHelper: no file-size limit to simulate a full disk with on this platform.
func fsizeHelper(*testing.T) ([]string, bool) { return nil, false }
