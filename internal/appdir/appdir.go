// Package appdir names entra-quickstart's own folder on this machine: the local record, the
// certificates' keys, the locks, the labs and the localhost certificate all live under it.
// It is computed here and nowhere else, so ENTRA_QUICKSTART_HOME moves all of them at once.
package appdir

import (
	"fmt"
	"os"
	"path/filepath"
)

// Env is the variable that overrides the folder (tests, and people who want it elsewhere).
const Env = "ENTRA_QUICKSTART_HOME"

// Dir is $ENTRA_QUICKSTART_HOME, else <user config dir>/entra-quickstart (~/.config on Linux,
// ~/Library/Application Support on macOS, %AppData% on Windows).
func Dir() (string, error) {
	if d := os.Getenv(Env); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config folder for entra-quickstart (%w): set %s to a folder", err, Env)
	}
	return filepath.Join(base, "entra-quickstart"), nil
}
