// Command proctor runs the processes of a Procfile app: a foreman clone with
// runtime control, no orphaned processes, output at pipe speed and exports to
// systemd, supervisord, runit, launchd, Docker Compose and Kubernetes.
//
// main only subscribes to the signals proctor handles and exits with the
// code of cli.Run, which is the command line.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/proctor-run/proctor/cli"
)

func main() {
	sigs := make(chan os.Signal, 8) // buffered, as signal.Notify requires
	// SIGPIPE is caught so that a write to a closed stdout fails with EPIPE
	// (and start shuts down cleanly) instead of killing proctor; a caught
	// signal, unlike an ignored one, is reset to default in children.
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE)
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, sigs))
}
