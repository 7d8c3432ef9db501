package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"github.com/entra-quickstart/entra-quickstart/internal/state"
)

// lockRun makes sure one run at a time configures a sample folder and one run at a time works on
// an app registration (its cloud, tenant and uniqueName, joined in appKey): two runs at once
// would each add a client secret, write the folder in turns, and retire each other's secret.
func lockRun(dir, appKey string) (release func(), err error) {
	return acquire(
		lockKey{folderKey(dir), "configuring " + dir},
		lockKey{"app:" + strings.ToLower(appKey), "working on the same app registration"},
	)
}

// lockLab makes sure one lab command at a time works on a lab (and on its bundle folder, when
// dir is given): two provision runs would give attendees two secrets each and write their
// bundles in turns; a reset during a provision would delete apps as they are made.
func lockLab(name, dir string) (release func(), err error) {
	keys := []lockKey{{"lab:" + strings.ToLower(name), "working on the lab " + name}}
	if dir != "" {
		keys = append(keys, lockKey{folderKey(dir), "writing in " + dir})
	}
	return acquire(keys...)
}

// folderKey names a folder for its lock, so that every spelling of one folder is one lock:
// absolute, with symlinks resolved (--dir link/App and --dir App), and in lower case where the
// file system ignores case (app and App on macOS and Windows). A folder not made yet is named by
// its nearest existing parent, resolved, and the rest of the path.
func folderKey(dir string) string {
	p, err := filepath.Abs(dir)
	if err != nil {
		p = filepath.Clean(dir)
	}
	rest := ""
	for cur := p; ; cur = filepath.Dir(cur) {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			p = filepath.Join(r, rest)
			if caseInsensitive(r) {
				p = strings.ToLower(p)
			}
			break
		}
		if filepath.Dir(cur) == cur {
			break
		}
		rest = filepath.Join(filepath.Base(cur), rest)
	}
	return "folder:" + p
}

// caseInsensitive reports whether the file system holding the existing path p ignores case:
// p with its letters' case swapped is the same file.
func caseInsensitive(p string) bool {
	alt := strings.Map(func(r rune) rune {
		if u := unicode.ToUpper(r); u != r {
			return u
		}
		return unicode.ToLower(r)
	}, p)
	if alt == p {
		return false
	}
	a, err := os.Stat(p)
	if err != nil {
		return false
	}
	b, err := os.Stat(alt)
	return err == nil && os.SameFile(a, b)
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
