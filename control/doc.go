// Package control is proctor's runtime control: the protocol spoken over
// the Unix socket that `proctor start` serves, the server that answers it
// for a running stack, and the client that `proctor ps`, `restart`, `stop`,
// `scale`, `logs` and `attach` use.
//
// # The socket
//
// Listen creates the socket with mode 0600 and no moment where it is more
// open: it binds inside a fresh directory of mode 0700 next to the final
// path, sets the socket's mode to 0600 there, and only then gives it its
// final name with a rename that fails when a file already has that name
// (renameat2 with RENAME_NOREPLACE on Linux; link(2) elsewhere, and where
// the file system cannot rename that way). A socket already at the path is
// probed: if
// connecting to it is refused, it was left by a proctor that died, and is
// replaced; if something answers, Listen fails with an *InUseError naming
// the pid of the proctor that serves it. (Changing the process umask
// instead would be racy: the umask is shared by every goroutine and
// inherited by every child started meanwhile.) Close removes the socket,
// unless the file at the path is no longer the one Listen created.
//
// Every connection's peer credentials are checked before anything is read
// from it (SO_PEERCRED on Linux, LOCAL_PEERCRED on macOS): a connection
// from another user id gets an error response and is closed. Clients check
// the server the same way before sending anything, so keystrokes are never
// sent to another user's socket.
//
// # Protocol, version 1
//
// One connection carries one request. The client sends one JSON object on
// one line (at most MaxRequest bytes, newline included):
//
//	{"version":1,"command":"restart","name":"web"}
//
// and the server answers with one JSON object on one line:
//
//	{"version":1,"ok":true}
//	{"version":1,"ok":false,"code":"unknown_name","error":"no such process \"wbe\" (running: web.1, worker.1)"}
//
// A request whose version is not Version gets an error with code
// "version". Fields a receiver does not know are ignored. The commands and
// their fields:
//
//	info     → pid (of proctor), types (the Procfile's process types)
//	status   → processes (see Process), types
//	stats    → pid, stats: goroutines, fds, heap_bytes of proctor itself (see Stats)
//	restart  name: an instance ("web.2") or a type ("web", its instances one after another)
//	stop     name: an instance or a type
//	scale    formation: [{"type":"web","count":3}, ...]
//	logs     names: instances or types (none: all), color: bool
//	attach   name: an instance; rows, cols: the client's window size
//	wait     names: types (none: those whose readiness the app defines)
//	shutdown (stops the whole stack, as Ctrl-C does; answered at once)
//
// stats is read-only and never waits for the stack: it is how tests and
// ps watch proctor for leaked goroutines and file
// descriptors. restart, stop and scale answer once the change is done;
// wait once the types are ready, or fails when the stack stops first. Error codes are
// "forbidden" (another user id), "bad_request" (malformed, too large,
// unknown command, missing field), "version", "unknown_name", "not_tty",
// "not_alive", "shutting_down", "not_running" and "failed" (anything
// else); the "error" text is meant for people.
//
// After an ok answer to logs, the connection carries the stack's output,
// as text lines in start's format, until either side closes it. The
// client sends nothing more; it closes the connection to stop.
//
// After an ok answer to attach, both directions carry frames: a kind byte,
// the payload length as 4 bytes big-endian (at most MaxFrame), and the
// payload. The client sends 'i' (keystrokes for the instance's terminal)
// and 'w' (window size: rows and cols, 2 bytes big-endian each); the server
// sends 'o' (the instance's raw terminal output) and, when the instance's
// terminal closes, 'x' (a message saying so), after which it closes the
// connection. Frames of unknown kinds are skipped. The client detaches by
// closing the connection; the instance keeps running.
//
// # Lifetimes
//
// Each connection is served by its own goroutine (attach adds one more,
// reading the client's frames); Close closes the listener and every
// connection, waits for all of them and removes the socket. A request the
// backend is still working on (a restart waiting for an instance to stop)
// is waited for: the backend must return once its stack has ended. No
// client can slow the stack: a request must arrive within RequestTimeout,
// logs are fed through a subscription that drops lines for a slow reader
// (output.Mux.Subscribe), attach output through the runner's bounded,
// dropping queue, and every write to a client can be cut off by Close.
package control
