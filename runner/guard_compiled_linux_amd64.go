//go:build linux && amd64

package runner

import (
	_ "embed"
	"errors"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

//go:generate sh guardian/build.sh

// compiledGuardianProgram is guardian/guardian.c built by guardian/build.sh:
// a static executable of about 3 KB that needs no C library, no shell and
// no file on disk.
//
//go:embed guardian/guardian-linux-amd64
var compiledGuardianProgram []byte

// compiledGuardianPath is the path by which a child of this process executes
// the compiled guardian: /proc/self/fd/N of a sealed memfd that holds it,
// kept open (close-on-exec) for the life of the process. Empty when the
// kernel has no memfd, refuses executable ones (vm.memfd_noexec=2) or /proc
// is not mounted; the script then stands in.
var compiledGuardianPath = sync.OnceValue(func() string {
	const flags = unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	fd, err := unix.MemfdCreate("proctor-guardian", flags|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) { // before Linux 6.3 every memfd is executable, and MFD_EXEC unknown
		fd, err = unix.MemfdCreate("proctor-guardian", flags)
	}
	if err != nil {
		return ""
	}
	// Above the descriptors a fork may dup the child's stdio onto, which
	// would close this one in the child before it executes the path.
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 10)
	unix.Close(fd)
	if err != nil {
		return ""
	}
	f := os.NewFile(uintptr(high), "proctor-guardian")
	if _, err := f.Write(compiledGuardianProgram); err != nil {
		f.Close()
		return ""
	}
	const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return ""
	}
	path := "/proc/self/fd/" + strconv.Itoa(high)
	if fi, err := os.Stat(path); err != nil || fi.Mode()&0o111 == 0 {
		f.Close()
		return ""
	}
	keepGuardian = f
	return path
})

// keepGuardian holds the compiled guardian's memfd open.
var keepGuardian *os.File
