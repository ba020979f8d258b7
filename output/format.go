package output

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fatih/color"
)

// minWidth is the narrowest name column: "system" fits.
const minWidth = 6

// systemName is the name column of proctor's own lines.
const systemName = "system"

// palette holds the name colors by colorIndex: foreman's six, then their
// bright variants; index 12 starts over.
var palette = [...]color.Attribute{
	color.FgCyan, color.FgYellow, color.FgGreen, color.FgMagenta, color.FgRed, color.FgBlue,
	color.FgHiCyan, color.FgHiYellow, color.FgHiGreen, color.FgHiMagenta, color.FgHiRed, color.FgHiBlue,
}

// label is everything a line needs about its name, computed once per name
// and width: the text prefixes with and without color, and the name as a
// JSON string body.
type label struct {
	plain   []byte // "web.1  | "
	colored []byte // "\x1b[36mweb.1  |\x1b[0m " (== plain when the name has no color)
	json    []byte // the name escaped for a JSON string, without quotes
}

// labels is an immutable snapshot of the registered names at one width.
// Register drops the current snapshot and the next line builds a new one
// (Mux.currentLabels); formatters compare pointers to notice.
type labels struct {
	width  int
	byName map[string]*label
	system *label
}

func newLabel(name string, width, colorIndex int) *label {
	padded := name + strings.Repeat(" ", max(0, width-utf8.RuneCountInString(name)))
	l := &label{
		plain: []byte(padded + " | "),
		json:  appendJSONString(nil, []byte(name)),
	}
	l.colored = l.plain
	if colorIndex >= 0 {
		c := color.New(palette[colorIndex%len(palette)])
		c.EnableColor() // per object: never the color.NoColor global
		l.colored = []byte(c.Sprint(padded+" |") + " ")
	}
	return l
}

// buildLabels computes the labels of every name in names (name → color
// index) at the width of the longest one.
func buildLabels(names map[string]int) *labels {
	width := minWidth
	for name := range names {
		width = max(width, utf8.RuneCountInString(name))
	}
	ls := &labels{width: width, byName: make(map[string]*label, len(names))}
	for name, ci := range names {
		ls.byName[name] = newLabel(name, width, ci)
	}
	ls.system = newLabel(systemName, width, -1)
	return ls
}

// formatter turns complete lines of one source (a name and a stream) into
// output text. It caches what changes rarely: the time text is refreshed
// when the second changes, the name prefix when the labels change. A
// formatter belongs to one goroutine.
type formatter struct {
	format   Format
	noTime   bool
	noPrefix bool
	color    bool
	name     string // "" for system lines
	stream   Stream

	labels *labels
	label  *label

	haveSec bool
	sec     int64
	hms     [9]byte // "15:04:05 "
	date    []byte  // "2006-01-02T15:04:05" of sec
	zone    []byte  // "Z" or "-07:00" of sec

	jsonTail []byte // `","process":"web.1","stream":"stdout","line":"`

	head      []byte // main output head of the current chunk
	headDirty bool   // the text head must be rebuilt

	subPlain, subColor []byte // subscriber heads (text, always prefixed)
	subDirty           bool
}

func newFormatter(opts *Options, name string, stream Stream) *formatter {
	return &formatter{
		format:   opts.Format,
		noTime:   opts.NoTimestamp,
		noPrefix: opts.NoPrefix,
		color:    opts.Color,
		name:     name,
		stream:   stream,
	}
}

// update prepares the heads for a chunk of lines read at now.
func (f *formatter) update(now time.Time, ls *labels) {
	if ls != f.labels {
		f.labels = ls
		if f.name == "" {
			f.label = ls.system
		} else if f.label = ls.byName[f.name]; f.label == nil {
			// Copy registers its name first; this only guards against misuse.
			f.label = newLabel(f.name, ls.width, -1)
		}
		f.jsonTail = append(f.jsonTail[:0], `","process":"`...)
		f.jsonTail = append(f.jsonTail, f.label.json...)
		f.jsonTail = append(f.jsonTail, `","stream":"`...)
		f.jsonTail = append(f.jsonTail, f.stream.String()...)
		f.jsonTail = append(f.jsonTail, `","line":"`...)
		f.headDirty, f.subDirty = true, true
	}
	if sec := now.Unix(); !f.haveSec || sec != f.sec {
		f.haveSec, f.sec = true, sec
		h, m, s := now.Clock()
		f.hms = [9]byte{
			byte('0' + h/10), byte('0' + h%10), ':',
			byte('0' + m/10), byte('0' + m%10), ':',
			byte('0' + s/10), byte('0' + s%10), ' ',
		}
		if f.format == JSON {
			f.date = now.AppendFormat(f.date[:0], "2006-01-02T15:04:05")
			f.zone = now.AppendFormat(f.zone[:0], "Z07:00")
		}
		f.headDirty, f.subDirty = true, true
	}
	switch {
	case f.format == JSON:
		// The fraction changes with every chunk.
		f.head = append(f.head[:0], `{"time":"`...)
		f.head = append(f.head, f.date...)
		f.head = appendFraction(f.head, now.Nanosecond())
		f.head = append(f.head, f.zone...)
		f.head = append(f.head, f.jsonTail...)
	case f.headDirty:
		f.head = f.head[:0]
		if !f.noPrefix {
			if !f.noTime {
				f.head = append(f.head, f.hms[:]...)
			}
			if f.color {
				f.head = append(f.head, f.label.colored...)
			} else {
				f.head = append(f.head, f.label.plain...)
			}
		}
	}
	f.headDirty = false
}

// subHead returns the text head for a subscriber: always prefixed, time
// unless NoTimestamp, colored on request.
func (f *formatter) subHead(colored bool) []byte {
	if f.subDirty {
		f.subPlain, f.subColor = f.subPlain[:0], f.subColor[:0]
		if !f.noTime {
			f.subPlain = append(f.subPlain, f.hms[:]...)
			f.subColor = append(f.subColor, f.hms[:]...)
		}
		f.subPlain = append(f.subPlain, f.label.plain...)
		f.subColor = append(f.subColor, f.label.colored...)
		f.subDirty = false
	}
	if colored {
		return f.subColor
	}
	return f.subPlain
}

// appendMain appends lines (complete lines, each ending in '\n') and then
// pieces (split every maxLine bytes, no line ends) in the main format.
// It returns the extended dst and the number of output lines.
func (f *formatter) appendMain(dst, lines, pieces []byte, maxLine int) ([]byte, int) {
	if f.format == JSON {
		return appendJSONLines(dst, f.head, lines, pieces, maxLine)
	}
	return appendTextLines(dst, f.head, lines, pieces, maxLine)
}

// appendTextLines formats text lines: head, the line without its line end,
// '\n'. A complete line longer than maxLine (it can arrive whole in one
// read) is cut into pieces like a partial one.
func appendTextLines(dst, head, lines, pieces []byte, maxLine int) ([]byte, int) {
	n := 0
	dst = slices.Grow(dst, len(lines)+len(pieces)+len(head)*8)
	if len(head) == 0 && len(lines) <= maxLine && bytes.IndexByte(lines, '\r') < 0 {
		// Bare short lines with no "\r\n" to strip are already the output.
		dst = append(dst, lines...)
		n = bytes.Count(lines, nl)
		lines = nil
	}
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		switch {
		case i > 0 && lines[i-1] == '\r':
			dst, n = appendTextPieces(dst, head, lines[:i-1], maxLine, n)
		case i <= maxLine:
			dst = append(dst, head...)
			dst = append(dst, lines[:i+1]...)
			n++
		default:
			dst, n = appendTextPieces(dst, head, lines[:i], maxLine, n)
		}
		lines = lines[i+1:]
	}
	if len(pieces) > 0 {
		dst, n = appendTextPieces(dst, head, pieces, maxLine, n)
	}
	return dst, n
}

// appendTextPieces writes line as one line per maxLine bytes (an empty line
// is one empty line).
func appendTextPieces(dst, head, line []byte, maxLine, n int) ([]byte, int) {
	for {
		p := line[:min(maxLine, len(line))]
		dst = append(dst, head...)
		dst = append(dst, p...)
		dst = append(dst, '\n')
		n++
		line = line[len(p):]
		if len(line) == 0 {
			return dst, n
		}
	}
}

// appendJSONLines formats JSON lines: head (which opens the line string),
// the escaped line, `"}` and '\n'; long lines are cut as appendTextLines does.
func appendJSONLines(dst, head, lines, pieces []byte, maxLine int) ([]byte, int) {
	n := 0
	dst = slices.Grow(dst, len(lines)+len(pieces)+(len(head)+3)*8)
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		line := lines[:i]
		if i > 0 && line[i-1] == '\r' {
			line = line[:i-1]
		}
		dst, n = appendJSONPieces(dst, head, line, maxLine, n)
		lines = lines[i+1:]
	}
	if len(pieces) > 0 {
		dst, n = appendJSONPieces(dst, head, pieces, maxLine, n)
	}
	return dst, n
}

func appendJSONPieces(dst, head, line []byte, maxLine, n int) ([]byte, int) {
	for {
		p := line[:min(maxLine, len(line))]
		dst = append(dst, head...)
		dst = appendJSONString(dst, p)
		dst = append(dst, "\"}\n"...)
		n++
		line = line[len(p):]
		if len(line) == 0 {
			return dst, n
		}
	}
}

var nl = []byte{'\n'}

// appendFraction appends the fraction of a second as RFC 3339 with
// nanoseconds writes it: a dot and up to nine digits without trailing
// zeros, nothing at all for a whole second.
func appendFraction(dst []byte, ns int) []byte {
	if ns == 0 {
		return dst
	}
	var d [10]byte
	d[0] = '.'
	for i := 9; i >= 1; i-- {
		d[i] = byte('0' + ns%10)
		ns /= 10
	}
	end := 10
	for d[end-1] == '0' {
		end--
	}
	return append(dst, d[:end]...)
}

// jsonEscape maps each ASCII byte to its JSON string form when it cannot
// stand for itself ("" when it can).
var jsonEscape = func() (t [utf8.RuneSelf]string) {
	const hexDigits = "0123456789abcdef"
	for b := range 0x20 {
		t[b] = `\u00` + string(hexDigits[b>>4]) + string(hexDigits[b&0xf])
	}
	t['\b'], t['\f'], t['\n'], t['\r'], t['\t'] = `\b`, `\f`, `\n`, `\r`, `\t`
	t['"'], t['\\'] = `\"`, `\\`
	return t
}()

// Word-at-a-time tests on the eight bytes of a uint64.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain8 reports whether none of the eight bytes of x needs attention in
// a JSON string: none is a control character (< 0x20), '"', '\\' or
// non-ASCII (>= 0x80). It may answer false for plain bytes (then the slow
// path looks at them one by one), never true for others.
func plain8(x uint64) bool {
	lt20 := (x - ones*0x20) & ^x // high bit set in a byte < 0x20 (or >= 0x80)
	q := x ^ (ones * '"')        // zero byte where x has '"'
	bs := x ^ (ones * '\\')      // zero byte where x has '\\'
	zq := (q - ones) & ^q        // high bit set in a zero byte of q
	zbs := (bs - ones) & ^bs     // likewise for bs
	return (lt20|zq|zbs|x)&highs == 0
}

// appendJSONString appends s as the body of a JSON string (no quotes).
// Invalid UTF-8 becomes \ufffd, one per bad byte, and U+2028 and U+2029
// are escaped so the result is also safe JavaScript, as encoding/json does.
func appendJSONString(dst, s []byte) []byte {
	done := 0 // s[:done] is in dst
	for i := 0; i < len(s); {
		// Skip eight plain ASCII bytes at a time.
		for i+8 <= len(s) && plain8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		if i > len(s)-8 && len(s) >= 8 && plain8(binary.LittleEndian.Uint64(s[len(s)-8:])) {
			// The last eight bytes, overlapping checked ones, are plain.
			i = len(s)
		}
		if i == len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if esc := jsonEscape[b]; esc != "" {
				dst = append(dst, s[done:i]...)
				dst = append(dst, esc...)
				done = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		var esc string
		switch {
		case r == utf8.RuneError && size == 1:
			esc = `\ufffd`
		case r == '\u2028':
			esc = `\u2028`
		case r == '\u2029':
			esc = `\u2029`
		default:
			i += size
			continue
		}
		dst = append(dst, s[done:i]...)
		dst = append(dst, esc...)
		i += size
		done = i
	}
	return append(dst, s[done:]...)
}
