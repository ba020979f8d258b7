// Package output merges the stdout and stderr of many child processes into
// one stream of whole, prefixed lines: the line multiplexer of proctor.
//
// A Mux is made with New, told the instance names with Register, fed with
// one Copy call per child stream (each in its own goroutine) or one
// CopyPipe call per pipe (which returns at once), given
// proctor's own lines with System, and released with Close. Text lines look
// like
//
//	14:03:07 web.1  | Listening on :5000
//
// and JSON lines like
//
//	{"time":"2024-05-01T14:03:07.123456789+02:00","process":"web.1","stream":"stdout","line":"Listening on :5000"}
//
// # Lines
//
// Each Copy call reads its child's pipe into a buffer that starts at
// 16 KiB, grows to 64 KiB for a fast child, and beyond only while a line
// longer than that is incomplete. Reading a pipe or pty on Linux, it holds
// the buffer only while there is output to read or a partial line to keep:
// once the pipe is drained it gives the buffer back to a pool and waits for
// readability without one, so quiet children cost no buffer memory. A line ends at "\n"; "\r\n" is one
// line end. Lines up to MaxLine (1 MiB) are written whole; a longer one is
// written in MaxLine pieces, each with its prefix, so a reader never holds
// more than about MaxLine+64 KiB, whatever the child writes. A last line
// without a line end is written, with "\n" added, at EOF. Text output
// passes every byte of a line through unchanged, including invalid UTF-8
// and the child's own ANSI sequences.
// The lines of one read share one timestamp: the time of that read.
//
// In JSON, strings are escaped as encoding/json does (without its HTML
// escaping): quotes, backslashes and control characters are escaped
// (\n, \t, \u001b...), U+2028 and U+2029 too, and each byte that is not
// part of valid UTF-8 becomes \ufffd (U+FFFD), so every line is valid JSON
// but lines holding invalid UTF-8 do not round-trip exactly. JSON ignores
// Color, NoTimestamp and NoPrefix.
//
// # One writer, group commit
//
// A Copy call formats all the complete lines of one read into a pooled
// buffer, with no fmt and no allocation per line: the time text is cached
// until the second changes, and each name's padded, colored prefix is
// computed once when it is registered (and again when a longer name widens
// the column). It then appends that chunk to the Mux's queue under a lock,
// once. Lines never interleave because each chunk is appended whole.
//
// One writer goroutine per Mux owns the io.Writer. Each of its Writes takes
// everything that queued up while the previous Write ran (group commit): on
// a terminal that is line by line with no added delay, into a busy file or
// pipe the Writes grow to the size of the queue. The writer is a goroutine
// of its own, rather than whichever reader holds the lock, so that a Write
// that never returns holds no reader: the readers keep draining their
// children.
//
// # One loop for the pipes
//
// CopyPipe takes the read end of a child's pipe. On Linux one goroutine
// reads them all, woken by one level-triggered epoll instance that is
// itself in the runtime poller: it reads each ready pipe once per wakeup
// into a pooled buffer that it keeps only while a partial line is held.
// 100 quiet instances so cost no goroutine and no buffer each (0.7 MiB
// less peak RSS for bench/run.sh's stack than a goroutine per pipe). A
// pipe whose read fills the buffer is a fast child: it leaves the loop
// for a goroutine of its own, as a Copy of it would run, with a bigger
// buffer and pipe, so that its reads do not delay the other children's
// lines. Elsewhere every pipe gets such a goroutine.
//
// # Bounded queue and the drop policy
//
// The queue holds at most about 256 KiB besides the batch being written.
// When it is full, Copy waits for the writer (backpressure): a child then
// blocks only as much as the output itself does. But once a single Write
// has been blocked for the stall timeout (Options.StallTimeout, 5 s by
// default: nobody reads the pipe), Copy stops waiting and drops lines,
// counting them, until that Write returns; the count is then written as a
// system line ("N lines dropped: output was blocked for more than 5s").
//
// After a write error (EPIPE when stdout is closed, ENOSPC...) the first
// error is kept (Err), Failed is closed and all further output is
// discarded, while Copy keeps reading so children never block.
//
// # Lifetime
//
// New starts the writer goroutine; Close writes what is queued and ends it,
// and the pipe loop, which the first CopyPipe starts.
// Close waits at most the stall timeout: if a Write is still blocked then,
// Close abandons the goroutine inside that Write (it exits, writing nothing
// more, when the Write returns) and reports how many lines were not
// written. No other goroutine outlives Close.
//
// # Subscribers
//
// Subscribe attaches a second, text destination, such as a `proctor logs`
// client. Each subscriber has its own writer goroutine and a bounded queue
// (256 KiB); lines it cannot take are dropped and counted, never waited
// for, so a slow subscriber cannot slow the main output.
package output
