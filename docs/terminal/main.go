// Command terminal makes docs/demo.svg, the README's picture of
// `proctor start` on the demo app, from real output: it builds proctor, runs
// `proctor start -c -d examples/demo` (-c: colours, as on a terminal), makes
// one request to the web process once it listens, waits a few seconds,
// sends SIGINT to proctor's process group as Ctrl-C does, and renders what
// proctor wrote (ANSI colours included) as an SVG terminal window.
//
// From the repository root:
//
//	go run ./docs/terminal
//
// It also writes the capture itself to docs/demo.ansi (`cat docs/demo.ansi`
// shows it in colour; the line "^C" marks where SIGINT was sent, as a
// terminal echoes it). -from FILE renders a saved capture without running
// anything.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("terminal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "docs/demo.svg", "the SVG to write")
	capture := fs.String("capture", "docs/demo.ansi", "where to keep the captured output")
	from := fs.String("from", "", "render this saved capture instead of running proctor")
	linger := fs.Duration("linger", 4*time.Second, "how long to let the demo run once web listens")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var raw []byte
	var err error
	if *from != "" {
		raw, err = os.ReadFile(*from)
	} else {
		raw, err = captureDemo(*linger, stderr)
		if err == nil {
			err = os.WriteFile(*capture, raw, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "terminal: %v\n", err)
		return 1
	}
	svg := render(parse(raw), "proctor start -c -d examples/demo")
	if err := os.WriteFile(*out, []byte(svg), 0o644); err != nil {
		fmt.Fprintf(stderr, "terminal: %v\n", err)
		return 1
	}
	return 0
}

// captureDemo runs the demo under a freshly built proctor and returns what
// proctor wrote to stdout and stderr, with "^C\n" where SIGINT was sent.
func captureDemo(linger time.Duration, log io.Writer) ([]byte, error) {
	if _, err := os.Stat("examples/demo/Procfile"); err != nil {
		return nil, errors.New("run me from the repository root (examples/demo/Procfile not found)")
	}
	tmp, err := os.MkdirTemp("", "proctor-terminal")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "proctor")
	fmt.Fprintln(log, "terminal: go build (proctor, and the demo's web to warm the build cache)")
	for _, args := range [][]string{{"build", "-o", bin, "."}, {"build", "-o", filepath.Join(tmp, "web"), "./examples/demo/web"}} {
		cmd := exec.Command("go", args...)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
		}
	}

	args := []string{"start", "-c", "-d", "examples/demo"}
	port := 5000
	if !portsFree(port, 3) {
		port = 6000 // another demo, or something else, holds 5000
		args = append(args, "-p", strconv.Itoa(port))
	}
	var buf lockedBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.Env = withoutNoColor(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, as a shell's job
	fmt.Fprintf(log, "terminal: proctor %s\n", strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	ready := time.NewTimer(90 * time.Second)
	defer ready.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err := <-done:
			return nil, fmt.Errorf("proctor exited before web listened (%v):\n%s", err, buf.Bytes())
		case <-ready.C:
			break wait
		case <-tick.C:
			if bytes.Contains(buf.Bytes(), []byte("is listening on port")) {
				break wait
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://localhost:%d/", port), nil); err == nil {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		} else {
			fmt.Fprintf(log, "terminal: request to web: %v\n", err)
		}
	}
	time.Sleep(linger)

	buf.Write([]byte("^C\n"))
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		return nil, err
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return nil, fmt.Errorf("proctor did not stop within 20 s of SIGINT:\n%s", buf.Bytes())
	}
	return buf.Bytes(), nil
}

// portsFree reports whether the n ports of the demo's types, base, base+100,
// ..., are free on the loopback address.
func portsFree(base, n int) bool {
	for i := range n {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+100*i))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

func withoutNoColor(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "NO_COLOR=") {
			out = append(out, kv)
		}
	}
	return out
}

// lockedBuffer is a bytes.Buffer that proctor's stdout and stderr copiers
// and the waiting loop may use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// style is the SGR state of a run of text: colours are "" (the default) or
// a CSS colour.
type style struct {
	fg, bg string
	bold   bool
	dim    bool
}

type span struct {
	style
	text string
}

// parse splits terminal output into lines of styled spans. It follows SGR
// sequences (ESC [ ... m: reset, bold, dim, the 8 colours and their bright
// variants, 256 colours, true colour), expands tabs, drops \r before \n and
// every other escape sequence.
func parse(raw []byte) [][]span {
	var lines [][]span
	var line []span
	var cur style
	var text strings.Builder
	col := 0
	flush := func() {
		if text.Len() > 0 {
			line = append(line, span{cur, text.String()})
			text.Reset()
		}
	}
	s := string(raw)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			flush()
			lines = append(lines, line)
			line, col = nil, 0
		case c == '\r':
		case c == '\t':
			n := 8 - col%8
			text.WriteString(strings.Repeat(" ", n))
			col += n
		case c == 0x1b && i+1 < len(s) && s[i+1] == '[':
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			if j < len(s) && s[j] == 'm' {
				flush()
				cur = applySGR(cur, s[i+2:j])
			}
			i = j
		case c == 0x1b && i+1 < len(s) && s[i+1] == ']': // OSC, up to BEL or ST
			j := i + 2
			for j < len(s) && s[j] != 0x07 && !(s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\') {
				j++
			}
			if j < len(s) && s[j] == 0x1b {
				j++
			}
			i = j
		case c < 0x20 || c == 0x7f:
		default:
			text.WriteByte(c)
			if c < 0x80 || c >= 0xc0 { // count runes, not UTF-8 continuation bytes
				col++
			}
		}
	}
	flush()
	if len(line) > 0 {
		lines = append(lines, line)
	}
	return lines
}

// The palette: the 16 ANSI colours on a dark background.
var palette = [16]string{
	"#3b4252", "#f07178", "#a6d189", "#ffcb6b", "#82aaff", "#c792ea", "#89ddff", "#d0d4dc",
	"#6b7280", "#ff8b92", "#c3e88d", "#ffe08a", "#9cc0ff", "#dcb4f5", "#a8ecff", "#ffffff",
}

const (
	background = "#1b1f27"
	foreground = "#d0d4dc"
)

func applySGR(st style, params string) style {
	if params == "" {
		return style{}
	}
	ps := strings.Split(params, ";")
	for k := 0; k < len(ps); k++ {
		n, err := strconv.Atoi(ps[k])
		if err != nil {
			continue
		}
		switch {
		case n == 0:
			st = style{}
		case n == 1:
			st.bold = true
		case n == 2:
			st.dim = true
		case n == 22:
			st.bold, st.dim = false, false
		case n >= 30 && n <= 37:
			st.fg = palette[n-30]
		case n == 39:
			st.fg = ""
		case n >= 40 && n <= 47:
			st.bg = palette[n-40]
		case n == 49:
			st.bg = ""
		case n >= 90 && n <= 97:
			st.fg = palette[n-90+8]
		case n >= 100 && n <= 107:
			st.bg = palette[n-100+8]
		case n == 38 || n == 48:
			colour, used := extendedColour(ps[k+1:])
			k += used
			if n == 38 {
				st.fg = colour
			} else {
				st.bg = colour
			}
		}
	}
	return st
}

// extendedColour reads "5;N" or "2;R;G;B" and says how many parameters it
// used.
func extendedColour(ps []string) (string, int) {
	at := func(i int) int {
		if i >= len(ps) {
			return 0
		}
		v, _ := strconv.Atoi(ps[i])
		return min(max(v, 0), 255)
	}
	if len(ps) == 0 {
		return "", 0
	}
	switch ps[0] {
	case "5":
		n := at(1)
		switch {
		case n < 16:
			return palette[n], 2
		case n < 232:
			n -= 16
			level := func(v int) int {
				if v == 0 {
					return 0
				}
				return 55 + 40*v
			}
			return fmt.Sprintf("#%02x%02x%02x", level(n/36), level(n/6%6), level(n%6)), 2
		default:
			g := 8 + 10*(n-232)
			return fmt.Sprintf("#%02x%02x%02x", g, g, g), 2
		}
	case "2":
		return fmt.Sprintf("#%02x%02x%02x", at(1), at(2), at(3)), 4
	}
	return "", 1
}

// Geometry of the window, in pixels.
const (
	fontSize   = 14
	lineHeight = 19
	charWidth  = 8.43 // DejaVu Sans Mono and Menlo advance 0.602 em
	padX       = 18
	titleBarH  = 34
	padY       = 14
	fontFamily = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
)

// render draws the lines as a terminal window, the command line first.
func render(lines [][]span, command string) string {
	prompt := []span{{style{fg: palette[2], bold: true}, "$ "}, {style{}, command}}
	lines = append([][]span{prompt}, lines...)
	cols := 0
	for _, l := range lines {
		n := 0
		for _, sp := range l {
			n += len([]rune(sp.text))
		}
		cols = max(cols, n)
	}
	w := int(float64(cols+1)*charWidth) + 2*padX
	h := titleBarH + padY + len(lines)*lineHeight + padY
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" rx="8" fill="%s"/>`+"\n", w, h, background)
	fmt.Fprintf(&b, `<path d="M0 8a8 8 0 0 1 8-8h%d a8 8 0 0 1 8 8v%dh-%dz" fill="#2b303b"/>`+"\n", w-16, titleBarH-8, w)
	for i, c := range []string{"#ff5f57", "#febc2e", "#28c840"} {
		fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="6" fill="%s"/>`+"\n", 20+i*20, titleBarH/2, c)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-family="%s" font-size="12" fill="#8b93a1">proctor: the demo app (examples/demo)</text>`+"\n",
		w/2, titleBarH/2+4, fontFamily)
	fmt.Fprintf(&b, `<g font-family="%s" font-size="%d" fill="%s" xml:space="preserve">`+"\n", fontFamily, fontSize, foreground)
	for i, l := range lines {
		y := titleBarH + padY + (i+1)*lineHeight - 5
		x := 0
		// Backgrounds first, then the text over them.
		for _, sp := range l {
			n := len([]rune(sp.text))
			if sp.bg != "" {
				fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n",
					padX+float64(x)*charWidth, y-lineHeight+5, float64(n)*charWidth, lineHeight, sp.bg)
			}
			x += n
		}
		if len(l) == 0 {
			continue
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d">`, padX, y)
		for _, sp := range l {
			var attrs []string
			if sp.fg != "" {
				attrs = append(attrs, fmt.Sprintf(`fill="%s"`, sp.fg))
			}
			if sp.bold {
				attrs = append(attrs, `font-weight="bold"`)
			}
			if sp.dim {
				attrs = append(attrs, `opacity="0.6"`)
			}
			if len(attrs) == 0 {
				b.WriteString(html.EscapeString(sp.text))
				continue
			}
			fmt.Fprintf(&b, `<tspan %s>%s</tspan>`, strings.Join(attrs, " "), html.EscapeString(sp.text))
		}
		b.WriteString("</text>\n")
	}
	b.WriteString("</g>\n</svg>\n")
	return b.String()
}
