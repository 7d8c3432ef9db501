//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"syscall"
)

// openNoFollow opens path for reading without following a link in its last component.
func openNoFollow(path string) (*os.File, error) {
	// O_NONBLOCK: a FIFO put in the file's place must not hang the open.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK) {
		return nil, ErrNotRegular
	}
	return f, err
}
