// Command e2ehelper is a child process for the end-to-end tests of
// `proctor start`, for what a shell cannot do on its own. The tests build
// it once and name it in their Procfiles:
//
//	e2ehelper listen   listen on 127.0.0.1:$PORT, say so, accept until killed
//	e2ehelper http     serve HTTP on 127.0.0.1:$PORT: /health answers 200,
//	                   logging each request, anything else 404
//	e2ehelper escape   start `sleep 1000` in a new process group (not a new
//	                   session), print its pid and exit without waiting: a
//	                   double fork that leaves the instance's group
//	e2ehelper stdin    say whether standard input is at its end right now
//	                   ("stdin at end of file") or open with nothing to read
//	                   ("stdin open"), then read it to its end and exit, as
//	                   watchers that stop at end of input do
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: e2ehelper listen|http|escape|stdin")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "listen":
		err = listen(os.Getenv("PORT"))
	case "http":
		err = serveHTTP(os.Getenv("PORT"))
	case "escape":
		err = escape()
	case "stdin":
		err = readStdin()
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2ehelper:", err)
		os.Exit(1)
	}
}

func listen(port string) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return err
	}
	fmt.Println("listening on", port)
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		c.Close()
	}
}

func serveHTTP(port string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("health check from", r.UserAgent())
		fmt.Fprintln(w, "ok")
	})
	fmt.Println("serving on", port)
	return http.ListenAndServe(net.JoinHostPort("127.0.0.1", port), mux)
}

func escape() error {
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	fmt.Println("escaped", cmd.Process.Pid)
	return nil
}

// readStdin reports the state of standard input without waiting: a poll
// with no timeout finds end of file (or data) at once, and nothing on a
// pipe whose writer is open and silent.
func readStdin() error {
	fds := []unix.PollFd{{Fd: 0, Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Println("stdin at end of file")
	} else {
		fmt.Println("stdin open")
	}
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		return err
	}
	fmt.Println("stdin closed")
	return nil
}
