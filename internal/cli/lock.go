package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/state"
)

// lockRun makes sure one run at a time configures a sample folder and one run at a time works on
// an app registration (its cloud, tenant and uniqueName, joined in appKey): two runs at once
// would each add a client secret, write the folder in turns, and retire each other's secret.
func lockRun(dir, appKey string) (release func(), err error) {
	return acquire(
		lockKey{"folder:" + filepath.Clean(dir), "configuring " + dir},
		lockKey{"app:" + strings.ToLower(appKey), "working on the same app registration"},
	)
}

// lockLab makes sure one lab command at a time works on a lab (and on its bundle folder, when
// dir is given): two provision runs would give attendees two secrets each and write their
// bundles in turns; a reset during a provision would delete apps as they are made.
func lockLab(name, dir string) (release func(), err error) {
	keys := []lockKey{{"lab:" + strings.ToLower(name), "working on the lab " + name}}
	if dir != "" {
		keys = append(keys, lockKey{"folder:" + filepath.Clean(dir), "writing in " + dir})
	}
	return acquire(keys...)
}

// lockKey is one lock: what it guards, and what a run holding it is doing, for the error.
type lockKey struct{ key, what string }

// acquire takes every lock or none. The second run fails at once with a clear error rather than
// waiting behind a run that may sit in a browser sign-in for minutes. The locks are files in the
// tool's config folder (never in the sample's folder), held by the operating system for the life
// of the process: a run that is killed leaves none behind.
func acquire(keys ...lockKey) (release func(), err error) {
	dir, err := appdir.Dir()
	if err != nil {
		return nil, err
	}
	note := fmt.Sprintf("pid %d since %s", os.Getpid(), time.Now().Format(time.TimeOnly))
	var releases []func()
	release = func() {
		for i := len(releases) - 1; i >= 0; i-- {
			releases[i]()
		}
	}
	for _, l := range keys {
		sum := sha256.Sum256([]byte(l.key))
		path := filepath.Join(dir, "locks", hex.EncodeToString(sum[:8])+".lock")
		r, err := state.TryLockFile(path, note)
		if err != nil {
			release()
			if errors.Is(err, state.ErrLocked) {
				return nil, fmt.Errorf("another entra-quickstart is %s right now (%w): wait for it to finish, then run the same command again", l.what, err)
			}
			return nil, err
		}
		releases = append(releases, r)
	}
	return release, nil
}
