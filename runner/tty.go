package runner

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// WindowSize is a terminal size in character cells.
type WindowSize struct {
	Rows, Cols uint16
}

// orDefault returns s, or 80x24 when s is unset.
func (s WindowSize) orDefault() WindowSize {
	if s.Rows == 0 || s.Cols == 0 {
		return WindowSize{Rows: 24, Cols: 80}
	}
	return s
}

// openPTY opens a pseudo-terminal of the given size. The master is returned
// in non-blocking mode, served by Go's poller, so that a read on it does not
// hold an OS thread and closing it wakes the reader.
func openPTY(size WindowSize) (master, slave *os.File, err error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open pty: %w", err)
	}
	// pty.Open leaves the master in blocking mode; re-open it pollable.
	fd, err := unix.Dup(int(m.Fd()))
	m.Close()
	if err != nil {
		s.Close()
		return nil, nil, fmt.Errorf("open pty: %w", err)
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		s.Close()
		return nil, nil, fmt.Errorf("open pty: %w", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := SetWindowSize(master, size); err != nil {
		master.Close()
		s.Close()
		return nil, nil, err
	}
	return master, s, nil
}

// SetWindowSize sets the window size of the terminal f, which may be in
// non-blocking mode; the child gets SIGWINCH.
func SetWindowSize(f *os.File, size WindowSize) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	err = rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: size.Rows, Col: size.Cols})
	})
	if err != nil {
		return err
	}
	if ierr != nil {
		return fmt.Errorf("set window size: %w", ierr)
	}
	return nil
}

// TerminalSize returns the window size of the terminal f, if it is one.
func TerminalSize(f *os.File) (WindowSize, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return WindowSize{}, false
	}
	var ws *unix.Winsize
	var ierr error
	if err := rc.Control(func(fd uintptr) { ws, ierr = unix.IoctlGetWinsize(int(fd), unix.TIOCGWINSZ) }); err != nil || ierr != nil {
		return WindowSize{}, false
	}
	if ws.Row == 0 || ws.Col == 0 {
		return WindowSize{}, false
	}
	return WindowSize{Rows: ws.Row, Cols: ws.Col}, true
}
