package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/proctor-run/proctor/control"
)

// defaultDetachKeys is the detach sequence of docker attach.
const defaultDetachKeys = "ctrl-p,ctrl-q"

func newAttachCmd(h *host) *cobra.Command {
	var (
		f    clientFlags
		keys string
	)
	cmd := &cobra.Command{
		Use:   "attach NAME",
		Short: "Connect your terminal to an instance started with --tty",
		Long: `Connect your terminal to one instance (web.1) of a stack started with
proctor start --tty: its terminal output comes to you, your keystrokes go to
it alone (Ctrl-C included), and your window size is passed on. This is how
a debugger prompt (pry, byebug, pdb) is used under proctor. Output the
instance wrote before you attached is not repeated; resize or press Enter
to make a prompt show again.

Detach with Ctrl-P Ctrl-Q: the instance keeps running. --detach-keys sets
another sequence: keys separated by commas, each a single character (a, ~)
or ctrl-X, where X is a letter or one of @ [ \ ] ^ _ (e.g. "ctrl-a,d" or
"ctrl-\"). Keys of the sequence are held back until it is clear they do not
complete it. The attach ends by itself, with a message, when the instance
exits; at the end of a stdin that is not a terminal it detaches.`,
		Example: `  proctor start --tty
  proctor attach web.1
  proctor attach worker.2 --detach-keys ctrl-a,d`,
		Args:              exactlyOneName,
		ValidArgsFunction: f.completeNames(h, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			seq, err := parseDetachKeys(keys)
			if err != nil {
				return &usageError{err}
			}
			return attach(h, &f, args[0], keys, seq)
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&keys, "detach-keys", defaultDetachKeys, `key sequence that detaches, e.g. "ctrl-a,d" (see above)`)
	return cmd
}

// parseDetachKeys parses a detach sequence: comma-separated keys, each a
// printable ASCII character or ctrl-X (X a letter, or one of @[\]^_).
func parseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("--detach-keys is empty (e.g. ctrl-p,ctrl-q)")
	}
	var seq []byte
	for _, k := range strings.Split(s, ",") {
		lower := strings.ToLower(k)
		switch {
		case len(k) == 1 && k[0] >= ' ' && k[0] <= '~':
			seq = append(seq, k[0])
		case strings.HasPrefix(lower, "ctrl-") && len(lower) == len("ctrl-")+1:
			c := lower[len(lower)-1]
			switch {
			case c >= 'a' && c <= 'z':
				seq = append(seq, c-'a'+1)
			case strings.IndexByte(`@[\]^_`, c) >= 0:
				seq = append(seq, c-'@') // ctrl-@ is 0, ctrl-[ is ESC...
			default:
				return nil, fmt.Errorf("--detach-keys: %q: after ctrl- comes a letter or one of @[\\]^_", k)
			}
		default:
			return nil, fmt.Errorf("--detach-keys: %q is not a key: use a character or ctrl-X, separated by commas (e.g. ctrl-p,ctrl-q)", k)
		}
	}
	return seq, nil
}

// detacher finds the detach sequence in keystrokes. Bytes that may begin
// the sequence are held back until the next bytes show whether they do.
type detacher struct {
	seq  []byte
	held int // bytes of seq matched and held back
}

// feed returns the bytes of p to pass on and whether the sequence is now
// complete; bytes after it are dropped.
func (d *detacher) feed(p []byte) (out []byte, detach bool) {
	for _, b := range p {
		if b == d.seq[d.held] {
			d.held++
			if d.held == len(d.seq) {
				d.held = 0
				return out, true
			}
			continue
		}
		// The held bytes and b: pass on all but the longest end of them
		// that may still begin the sequence.
		pending := append(d.seq[:d.held:d.held], b)
		keep := 0
		for k := min(len(pending), len(d.seq)-1); k > 0; k-- {
			if bytes.Equal(pending[len(pending)-k:], d.seq[:k]) {
				keep = k
				break
			}
		}
		out = append(out, pending[:len(pending)-keep]...)
		d.held = keep
	}
	return out, false
}

// errDetach ends the keystroke pump when the detach sequence is typed.
var errDetach = errors.New("detach")

// pumpKeys sends what r gives to w until the detach sequence, the end of
// r (io.EOF) or an error.
func pumpKeys(r io.Reader, w io.Writer, d *detacher) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			fwd, detach := d.feed(buf[:n])
			if len(fwd) > 0 {
				if _, werr := w.Write(fwd); werr != nil {
					return werr
				}
			}
			if detach {
				return errDetach
			}
		}
		if err != nil {
			return err
		}
	}
}

// windowSize returns the size of the first terminal among files.
func windowSize(files ...*os.File) (rows, cols uint16) {
	for _, f := range files {
		if f == nil {
			continue
		}
		if w, hgt, err := term.GetSize(int(f.Fd())); err == nil && w > 0 && hgt > 0 && w <= 0xffff && hgt <= 0xffff {
			return uint16(hgt), uint16(w)
		}
	}
	return 0, 0
}

func attach(h *host, f *clientFlags, name, keys string, seq []byte) error {
	ctx, stop := interruptContext(h)
	defer stop()
	in, _ := h.stdin.(*os.File)
	out, _ := h.stdout.(*os.File)
	rows, cols := windowSize(out, in)
	at, err := f.client(h).Attach(ctx, name, rows, cols)
	if err != nil {
		return clientError(err, "")
	}
	defer at.Close()

	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)

	fmt.Fprintf(h.stderr, "proctor: attached to %s; detach with %s\n", name, keys)
	restore := func() {}
	if in != nil && term.IsTerminal(int(in.Fd())) {
		old, err := term.MakeRaw(int(in.Fd()))
		if err != nil {
			return &exitError{exitFail, fmt.Errorf("attach: raw terminal mode: %w", err)}
		}
		var once sync.Once
		restore = func() { once.Do(func() { term.Restore(int(in.Fd()), old) }) }
		defer restore()
	}

	type ending struct {
		msg string
		err error
	}
	output := make(chan ending, 1)
	go func() {
		msg, err := at.ReadOutput(h.stdout)
		output <- ending{msg, err}
	}()
	// This goroutine may stay blocked reading the terminal after attach
	// returns; proctor exits right after, and nothing else reads stdin.
	keysDone := make(chan error, 1)
	go func() { keysDone <- pumpKeys(h.stdin, at, &detacher{seq: seq}) }()

	for {
		select {
		case <-winch:
			if r, c := windowSize(out, in); r > 0 {
				at.Resize(r, c)
			}
		case e := <-output:
			restore()
			var we *control.WriteError
			switch {
			case e.err == nil:
				fmt.Fprintf(h.stderr, "proctor: %s\n", e.msg)
				return nil
			case errors.As(e.err, &we):
				return writeErr(we.Err)
			}
			return clientError(e.err, "")
		case err := <-keysDone:
			if err != nil && !errors.Is(err, errDetach) && !errors.Is(err, io.EOF) {
				// Sending failed: the connection ended, most likely
				// because the instance did; the output says why.
				keysDone = nil
				continue
			}
			restore()
			fmt.Fprintf(h.stderr, "proctor: detached from %s (it keeps running)\n", name)
			return nil
		case <-ctx.Done():
			restore()
			fmt.Fprintf(h.stderr, "proctor: detached from %s (it keeps running)\n", name)
			return nil
		}
	}
}
