// Command spawnfloor is the floor of bench/run.sh's startup measurement:
// the least a Go supervisor can do to start the stack. It starts 100
// `/bin/sh -c CMD` (PS=s.1 to s.100 in their environment, each in its own
// process group, their stdout and stderr its own), one after the other
// with syscall.ForkExec as proctor does, then waits for SIGTERM, sends it
// to every group and reaps them. No pipes, no output of its own, no
// guardian, no bookkeeping: the difference between its startup and
// proctor's is what proctor adds.
//
//	spawnfloor [-n COUNT] CMD
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

func main() {
	n := flag.Int("n", 100, "instances to start")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: spawnfloor [-n COUNT] CMD")
		os.Exit(2)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	env := os.Environ()
	pids := make([]int, 0, *n)
	for i := 1; i <= *n; i++ {
		attr := &syscall.ProcAttr{
			Env:   append(env[:len(env):len(env)], "PS=s."+strconv.Itoa(i)),
			Files: []uintptr{0, 1, 2},
			Sys:   &syscall.SysProcAttr{Setpgid: true},
		}
		pid, err := syscall.ForkExec("/bin/sh", []string{"/bin/sh", "-c", flag.Arg(0)}, attr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "spawnfloor:", err)
			break
		}
		pids = append(pids, pid)
	}
	<-sigs
	for _, pid := range pids {
		syscall.Kill(-pid, syscall.SIGTERM)
	}
	for range pids {
		var ws syscall.WaitStatus
		syscall.Wait4(-1, &ws, 0, nil)
	}
}
