package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrLocked is wrapped by TryLockFile's error when another process holds the lock.
var ErrLocked = errors.New("lock held")

// TryLockFile takes an exclusive lock on the file at path (created, mode 0600, with its folder)
// without waiting, and writes note into it for whoever finds it held. The lock belongs to the
// process: the operating system drops it when the process ends, however it ends, so a killed
// run leaves no stale lock behind. When another process holds it, the error wraps ErrLocked and
// carries that process's note.
func TryLockFile(path, note string) (release func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("state: create %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state: open lock file: %w", err)
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("state: lock %s: %w", path, err)
	}
	if !ok {
		f.Close()
		holder := ""
		if b, err := os.ReadFile(path); err == nil { // Windows refuses to read a locked byte range
			holder = strings.TrimSpace(string(b))
		}
		if holder == "" {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("%w by %s", ErrLocked, holder)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(note+"\n"), 0)
	}
	return func() {
		_ = f.Truncate(0)
		unlock(f)
		f.Close()
	}, nil
}
