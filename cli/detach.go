package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/proctor-run/proctor/control"
	"github.com/proctor-run/proctor/runner"
)

// A detached stack (start -D) keeps its files in stateDirName in the root:
// log/ (the merged stream in proctor.log, each type's lines in TYPE.log),
// and exit, the exit code once it has stopped. (Not .proctor/, which is the
// defaults file.)
const stateDirName = ".proctor.d"

// detachedEnv tells a proctor start that it is the background half of a
// start -D: its value is the state directory. readyFDEnv names the
// descriptor on which it says "ready" once the stack is.
const (
	detachedEnv = "PROCTOR_DETACHED"
	readyFDEnv  = "PROCTOR_DETACHED_READY_FD"
)

// detachedLastLines is how many lines of the stream start -D shows when the
// stack failed.
const detachedLastLines = 20

// startDetached runs the stack in the background: the same proctor start,
// without -D, in a session of its own, its output in the state directory's
// log/, and returns once the stack is ready (exit 0) or has failed (its exit
// code, after its last lines).
func startDetached(h *host, f *startFlags) error {
	_, root := f.app.paths()
	state := filepath.Join(root, stateDirName)
	logDir := cmpOr(f.logDir, filepath.Join(state, "log"))
	client := &control.Client{Path: stackSocket(h, f.socket, root)}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	info, err := client.Info(ctx)
	cancel()
	if err == nil {
		return usageErrorf("a proctor is already running here (pid %d): stop it with proctor down", info.PID)
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return &exitError{exitFail, err}
	}
	os.Remove(filepath.Join(state, "exit"))
	streamPath := filepath.Join(logDir, "proctor.log")
	stream, err := os.OpenFile(streamPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return &exitError{exitFail, err}
	}
	defer stream.Close()
	marker := "--- proctor start -D " + time.Now().Format(time.RFC3339) + " ---\n"
	if _, err := stream.WriteString(marker); err != nil {
		return &exitError{exitFail, err}
	}
	exe, err := os.Executable()
	if err != nil {
		return &exitError{exitFail, err}
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return &exitError{exitFail, err}
	}
	defer readyR.Close()
	args := detachedArgs(h.args)
	if f.logDir == "" {
		args = append(args, "--log-dir", logDir)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(h.environ(), detachedEnv+"="+state, readyFDEnv+"=3")
	cmd.Stdout, cmd.Stderr = stream, stream
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return &exitError{exitFail, err}
	}
	exited := make(chan int, 1)
	go func() {
		cmd.Wait()
		exited <- processExitCode(cmd.ProcessState)
	}()
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(readyR).ReadString('\n')
		ready <- line == "ready\n"
	}()
	var ok bool
	for waiting := true; waiting; {
		select {
		case ok = <-ready:
			waiting = false
		case sig := <-h.sigs:
			if s, isSig := sig.(syscall.Signal); isSig && (s == syscall.SIGINT || s == syscall.SIGTERM || s == syscall.SIGHUP) {
				return &exitError{128 + int(s), fmt.Errorf("interrupted; the stack (pid %d) goes on in the background: proctor down stops it", cmd.Process.Pid)}
			}
		}
	}
	if ok {
		fmt.Fprintf(h.stdout, "proctor runs in the background (pid %d); its output is in %s; stop it with: proctor down\n", cmd.Process.Pid, logDir)
		return nil
	}
	code := <-exited // it said nothing: it has ended, or is ending
	for _, l := range lastLines(streamPath, marker, detachedLastLines) {
		fmt.Fprintln(h.stderr, l)
	}
	return &exitError{code, fmt.Errorf("the stack did not come up; exit code %d (all of it in %s)", code, streamPath)}
}

// detachedArgs is start's command line without -D / --detach.
func detachedArgs(args []string) []string {
	return slices.DeleteFunc(slices.Clone(args), func(a string) bool {
		return a == "-D" || a == "--detach" || strings.HasPrefix(a, "--detach=")
	})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// processExitCode is the code of a process as a shell reports it.
func processExitCode(st *os.ProcessState) int {
	if st == nil {
		return exitFail
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

// lastLines returns up to n lines of path written after the last marker.
func lastLines(path, marker string, n int) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	text := string(data)
	if i := strings.LastIndex(text, marker); i >= 0 {
		text = text[i+len(marker):]
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	return lines[max(0, len(lines)-n):]
}

// announceReady tells the start -D that launched this proctor, if any, once
// the stack is ready; it returns at once.
func announceReady(h *host, r *runner.Runner) {
	fd, err := strconv.Atoi(h.getenv(readyFDEnv))
	if err != nil || fd < 3 {
		return
	}
	w := os.NewFile(uintptr(fd), "ready")
	syscall.CloseOnExec(fd) // the stack's processes must not hold it
	go func() {
		defer w.Close()
		if r.WaitReady(nil) == nil {
			io.WriteString(w, "ready\n")
		}
	}()
}

// recordExit writes a detached proctor's exit code for proctor down.
func recordExit(h *host, err error) {
	state := h.getenv(detachedEnv)
	if state == "" {
		return
	}
	code := exitOK
	var ee *exitError
	var ue *usageError
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &ue):
		code = exitUsage
	case err != nil:
		code = exitFail
	}
	os.WriteFile(filepath.Join(state, "exit"), []byte(strconv.Itoa(code)+"\n"), 0o644)
}

func newDownCmd(h *host) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the stack running here, as Ctrl-C would, and wait until it has",
		Long: `Stop the stack that proctor start runs here (in the background with -D, or
in another terminal), exactly as Ctrl-C in its terminal would: SIGTERM to
every process group, SIGKILL after start's --timeout. down returns once
proctor has exited and nothing it started is left, and prints its exit code
(a detached stack records it in .proctor.d/exit).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptContext(h)
			defer stop()
			client := f.client(h)
			info, err := client.Info(ctx)
			if err != nil {
				return clientError(err, "")
			}
			if err := client.Shutdown(ctx); err != nil {
				return clientError(err, "")
			}
			if err := waitGone(ctx, info.PID); err != nil {
				return clientError(err, "shutdown")
			}
			_, root := (&appFlags{procfile: f.procfile, root: f.root}).paths()
			if data, err := os.ReadFile(filepath.Join(root, stateDirName, "exit")); err == nil {
				fmt.Fprintf(h.stdout, "stopped proctor (pid %d); it exited with code %s\n", info.PID, strings.TrimSpace(string(data)))
				return nil
			}
			fmt.Fprintf(h.stdout, "stopped proctor (pid %d)\n", info.PID)
			return nil
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// pollGone looks every 20 ms whether pid still exists, until it does not.
func pollGone(ctx context.Context, pid int) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}
