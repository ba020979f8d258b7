package control

import (
	"errors"
	"io/fs"

	"golang.org/x/sys/unix"
)

// moveNoReplace renames from to to unless to exists (fs.ErrExist then).
// It returns an error matching errors.ErrUnsupported when the file system
// cannot rename that way, or the system call is refused.
func moveNoReplace(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return fs.ErrExist
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
		// EPERM: a seccomp profile that refuses renameat2 (older
		// container runtimes).
		return errors.ErrUnsupported
	}
	return &fs.PathError{Op: "rename", Path: to, Err: err}
}
