package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// ErrNotRegular is returned (wrapped) by ReadFile for a link, a folder, a pipe or a device.
var ErrNotRegular = errors.New("not a regular file (a link, a folder or a device); move it away and run again")

// ReadFile reads a file the tool wrote or will replace, which may hold a secret, and returns
// its mode. It opens without following a link in the last component and checks what it opened
// (fstat), so nothing can swap a link in between a check and the read: a link planted in a
// sample folder never makes the tool read, copy or back up another file. A missing file is
// fs.ErrNotExist.
func ReadFile(path string) ([]byte, fs.FileMode, error) {
	f, err := openNoFollow(path)
	if errors.Is(err, ErrNotRegular) {
		return nil, 0, fmt.Errorf("%s: %w", path, ErrNotRegular)
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s: %w", path, ErrNotRegular)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, err
	}
	return b, st.Mode().Perm(), nil
}
