// Command e2ehelper is a child process for the end-to-end tests of
// `proctor start`, for what a shell cannot do on its own. The tests build
// it once and name it in their Procfiles:
//
//	e2ehelper listen   listen on 127.0.0.1:$PORT, say so, accept until killed
//	e2ehelper escape   start `sleep 1000` in a new process group (not a new
//	                   session), print its pid and exit without waiting: a
//	                   double fork that leaves the instance's group
package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: e2ehelper listen|escape")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "listen":
		err = listen(os.Getenv("PORT"))
	case "escape":
		err = escape()
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

func escape() error {
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	fmt.Println("escaped", cmd.Process.Pid)
	return nil
}
