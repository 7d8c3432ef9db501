//go:build !unix

package atomicfile

import (
	"os"
)

// openNoFollow opens path for reading, refusing a link in its last component. Windows has no
// O_NOFOLLOW: the Lstat before the open leaves a window a link could be swapped into, which the
// fstat in ReadFile narrows to what was opened being a regular file. [Untested: no Windows here.]
func openNoFollow(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, ErrNotRegular
	}
	return os.Open(path)
}
