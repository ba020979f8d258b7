// Command chart draws the results of bench/peers/run.sh as an SVG: one
// panel of bars per measurement (one bar per tool, the same-run floor or
// reference as a dashed line) and a grid of the correctness facts.
//
// From the repository root, after bench/peers/run.sh:
//
//	go run ./bench/peers/chart
//
// reads bench/peers/results/peers.tsv and writes docs/peers.svg.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"strconv"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "bench/peers/results/peers.tsv", "results of bench/peers/run.sh")
	out := fs.String("o", "docs/peers.svg", "the SVG to write")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := draw(*in, *out); err != nil {
		fmt.Fprintf(stderr, "chart: %v\n", err)
		return 1
	}
	return 0
}

func draw(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := readResults(f)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if len(res.tools) == 0 {
		return fmt.Errorf("%s: no measured tool", in)
	}
	var b strings.Builder
	render(&b, res)
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// results is peers.tsv: the meta lines ("# key<TAB>value") and one row per
// tool, by column name.
type results struct {
	meta    map[string]string
	tools   []map[string]string
	skipped []string
}

var errNoHeader = errors.New("no header line (tool<TAB>status...)")

func readResults(r io.Reader) (*results, error) {
	res := &results{meta: map[string]string{}}
	var header []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			k, v, _ := strings.Cut(rest, "\t")
			res.meta[k] = v
			continue
		}
		fields := strings.Split(line, "\t")
		if header == nil {
			if fields[0] != "tool" {
				return nil, errNoHeader
			}
			header = fields
			continue
		}
		if len(fields) > 1 && fields[1] == "skipped" {
			res.skipped = append(res.skipped, line)
			continue
		}
		row := map[string]string{}
		for i, name := range header {
			if i < len(fields) {
				row[name] = fields[i]
			}
		}
		res.tools = append(res.tools, row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if header == nil {
		return nil, errNoHeader
	}
	return res, nil
}

// num reads a number; ok is false for "n/a" or anything else.
func num(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func label(tool string) string {
	switch tool {
	case "nf":
		return "node-foreman"
	case "foreman":
		return "foreman (Ruby)"
	}
	return tool
}

// helper names the helper processes whose memory is stacked on a tool's bar
// (its children that are not instances).
func helper(tool string) string {
	switch tool {
	case "proctor":
		return "guardian"
	case "overmind":
		return "tmux client"
	}
	return "helpers"
}

// Layout and colours.
const (
	width     = 1000
	margin    = 24
	nameW     = 130 // tool names left of the bars
	barH      = 16
	barGap    = 5
	panelGap  = 22
	titleH    = 22
	bg        = "#ffffff"
	ink       = "#1f2328"
	muted     = "#59636e"
	grid      = "#d1d9e0"
	ours      = "#0969da"
	theirs    = "#8c959f"
	extra     = "#9ec5f5" // proctor's guardian, stacked on its bar
	extraPeer = "#d1d9e0" // a peer's helpers (overmind's tmux client)
	bad       = "#cf222e"
	good      = "#1a7f37"
	fontStack = "DejaVu Sans, Helvetica, Arial, sans-serif"
)

// halo keeps a label readable where the reference line crosses it.
const halo = `stroke="#ffffff" stroke-width="3" paint-order="stroke"`

// bar is one tool's value in a panel: value (ok false when there is none),
// its printed label, and an optional second part stacked after it.
type bar struct {
	tool   string
	value  float64
	ok     bool
	text   string
	extra  float64
	failed string // shown instead of a bar, in red
}

type panel struct {
	title    string
	note     string // after the title, muted
	bars     []bar
	ref      float64 // dashed line; 0 for none
	refLabel string
}

func render(w *strings.Builder, res *results) {
	panels := buildPanels(res)
	n := len(res.tools)
	panelH := titleH + n*(barH+barGap) + 8
	factsH := titleH + 26 + n*(barH+barGap) + 8
	foot := footnotes(res)
	height := margin + 100 + len(panels)*(panelH+panelGap) + factsH + 25 + 15*len(foot) + margin

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s" font-size="13">`+"\n",
		width, height, width, height, fontStack)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="%s"/>`+"\n", bg)
	y := margin + 20
	fmt.Fprintf(w, `<text x="%d" y="%d" font-size="20" font-weight="bold" fill="%s">proctor and the Procfile managers users pick instead</text>`+"\n", margin, y, ink)
	y += 22
	subs := []string{
		fmt.Sprintf("One session on one machine, every tool with its default flags; medians of %s runs; lower is better.", res.meta["runs"]),
		fmt.Sprintf("%s; %s.", res.meta["machine"], res.meta["date"]),
		fmt.Sprintf("Load average (1, 5, 15 min): %s.", res.meta["load"]),
	}
	for _, sub := range subs {
		fmt.Fprintf(w, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", margin, y, muted, esc(sub))
		y += 18
	}
	y += 4

	for _, p := range panels {
		drawPanel(w, p, y)
		y += panelH + panelGap
	}
	drawFacts(w, res, y)
	y += factsH + 14
	for _, line := range foot {
		fmt.Fprintf(w, `<text x="%d" y="%d" font-size="11" fill="%s">%s</text>`+"\n", margin, y, muted, esc(line))
		y += 15
	}
	w.WriteString("</svg>\n")
}

// footnotes are the lines under the chart: how it was made, what a tool's
// numbers leave out, and the tools not measured, with the reason run.sh gave.
func footnotes(res *results) []string {
	foot := []string{"bench/peers/run.sh, chart by go run ./bench/peers/chart. Peers installed from Debian, npm and the Go module proxy, default flags."}
	for _, t := range res.tools {
		if t["tool"] == "overmind" {
			foot = append(foot, "overmind runs the instances in a tmux server that is not its child: that server's memory and CPU are not counted (its tmux client is).")
		}
	}
	for _, s := range res.skipped {
		f := strings.SplitN(s, "\t", 3)
		line := "Not measured: " + label(f[0])
		if len(f) == 3 && f[2] != "" {
			line += ": " + f[2]
		}
		foot = append(foot, line+".")
	}
	return foot
}

func buildPanels(res *results) []panel {
	m := res.meta
	instances := m["instances"]
	var tp, cpu, up, down, downInt, mem, idle panel
	lines := strings.TrimPrefix(m["lines"], "4 x ")
	tp.title = "Throughput: 4 writers, " + thousands(lines) + " lines of 80 B each, into a file"
	tp.note = "wall time, × the writers straight into the file"
	tp.ref, tp.refLabel = 1, "floor "+trim(m["floor_tp_s"], 2)+" s"
	cpu.title = "The same run: CPU time of everything (user+sys)"
	cpu.note = "seconds"
	if f, ok := num(m["floor_tp_cpu_s"]); ok {
		cpu.ref, cpu.refLabel = f, "floor "+trim(m["floor_tp_cpu_s"], 2)+" s"
	}
	up.title = instances + " instances up: launch until the " + instances + "th line is out"
	up.note = "seconds"
	if f, ok := num(m["bash_startup_s"]); ok {
		up.ref, up.refLabel = f, "bash loop "+trim(m["bash_startup_s"], 2)+" s"
	}
	down.title = "Shutdown of " + instances + " on SIGTERM: until the tool has exited and no instance is left"
	down.note = "seconds"
	if f, ok := num(m["bash_shutdown_s"]); ok {
		down.ref, down.refLabel = f, "bash kill+wait "+trim(m["bash_shutdown_s"], 3)+" s"
	}
	downInt.title = "Shutdown of " + instances + " on Ctrl-C (SIGINT to the tool's process group): the same"
	downInt.note = "seconds"
	mem.title = "Peak RSS of the tool with " + instances + " instances"
	mem.note = "MiB; helper processes stacked, lighter (proctor's guardian, overmind's tmux client)"
	idle.title = "Idle " + m["idle_s"] + " s with " + instances + " instances: CPU time of the tool"
	idle.note = "milliseconds (utime+stime, clock ticks), with its helper processes"

	for _, t := range res.tools {
		name := t["tool"]
		b := func(key string, digits int, unit string) bar {
			v, ok := num(t[key])
			return bar{tool: name, value: v, ok: ok, text: trim(t[key], digits) + unit}
		}
		x := b("tp_ratio", 2, "×")
		x.text += " (" + trim(t["tp_s"], 2) + " s)"
		if bad := sumOf(t, "not_whole"); bad > 0 {
			x.text += fmt.Sprintf(", %s lines not whole", thousands(strconv.Itoa(bad)))
		}
		tp.bars = append(tp.bars, x)
		cpu.bars = append(cpu.bars, b("tp_cpu_s", 2, " s"))
		up.bars = append(up.bars, b("startup_s", 2, " s"))
		for _, sig := range []struct {
			key string
			p   *panel
		}{{"term", &down}, {"int", &downInt}} {
			d := b("shutdown_"+sig.key+"_s", 3, " s")
			if stay, _ := num(t["left_"+sig.key+"_after_10s"]); stay > 0 {
				d = bar{tool: name, failed: fmt.Sprintf("exits in %s s, leaves the instances running", trim(t["shutdown_"+sig.key+"_exit_s"], 3))}
			} else if left, _ := num(t["left_"+sig.key+"_at_exit"]); left > 0 {
				d.text += " (instances outlive it)"
			}
			sig.p.bars = append(sig.p.bars, d)
		}
		r := bar{tool: name}
		if k, ok := num(t["rss_kib"]); ok {
			r.value, r.ok = k/1024, true
			r.text = fmt.Sprintf("%.1f MiB", r.value)
			if h, ok := num(t["helpers_rss_kib"]); ok && h > 0 {
				r.extra = h / 1024
				r.text += fmt.Sprintf(" + %.1f MiB %s", r.extra, helper(name))
			}
		}
		mem.bars = append(mem.bars, r)
		i := b("idle_cpu_ms", 0, " ms")
		i.text += ", " + t["idle_wakeups"] + " wakeups"
		idle.bars = append(idle.bars, i)
	}
	return []panel{tp, cpu, up, down, downInt, mem, idle}
}

func drawPanel(w *strings.Builder, p panel, y int) {
	fmt.Fprintf(w, `<text x="%d" y="%d" font-weight="bold" fill="%s">%s <tspan font-weight="normal" fill="%s">— %s</tspan></text>`+"\n",
		margin, y+14, ink, esc(p.title), muted, esc(p.note))
	top := y + titleH
	left := margin + nameW
	plotW := width - left - margin - 290 // room for the value labels
	most := p.ref
	for _, b := range p.bars {
		if b.ok && b.value+b.extra > most {
			most = b.value + b.extra
		}
	}
	if most <= 0 {
		most = 1
	}
	scale := float64(plotW) / most
	n := len(p.bars)
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`+"\n", left, top-2, left, top+n*(barH+barGap)-barGap+2, grid)
	// Bars first, then the reference line over them, then the labels
	// over both.
	var labels strings.Builder
	for i, b := range p.bars {
		by := top + i*(barH+barGap)
		weight := "normal"
		if b.tool == "proctor" {
			weight = "bold"
		}
		fmt.Fprintf(&labels, `<text x="%d" y="%d" text-anchor="end" font-weight="%s" fill="%s">%s</text>`+"\n",
			left-8, by+barH-4, weight, ink, esc(label(b.tool)))
		if b.failed != "" {
			fmt.Fprintf(&labels, `<text x="%d" y="%d" fill="%s" font-weight="bold" %s>%s</text>`+"\n", left+6, by+barH-4, bad, halo, esc(b.failed))
			continue
		}
		if !b.ok {
			fmt.Fprintf(&labels, `<text x="%d" y="%d" fill="%s">n/a</text>`+"\n", left+6, by+barH-4, muted)
			continue
		}
		colour := theirs
		if b.tool == "proctor" {
			colour = ours
		}
		bw := max(int(b.value*scale+0.5), 2)
		fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", left, by, bw, barH, colour)
		end := left + bw
		if b.extra > 0 {
			ew := int(b.extra*scale + 0.5)
			light := extraPeer
			if b.tool == "proctor" {
				light = extra
			}
			fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", end, by, ew, barH, light)
			end += ew
		}
		fmt.Fprintf(&labels, `<text x="%d" y="%d" fill="%s" font-weight="%s" %s>%s</text>`+"\n", end+6, by+barH-4, ink, weight, halo, esc(b.text))
	}
	if p.ref > 0 {
		x := left + int(p.ref*scale+0.5)
		bottom := top + n*(barH+barGap) - barGap + 2
		fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5" stroke-dasharray="4 3"/>`+"\n", x, top-4, x, bottom, bad)
		fmt.Fprintf(w, `<text x="%d" y="%d" font-size="11" text-anchor="middle" fill="%s">%s</text>`+"\n", x, bottom+12, bad, esc(p.refLabel))
	}
	w.WriteString(labels.String())
}

// fact is one column of the correctness grid: a heading and, per tool, the
// cell's text and whether it is the right behaviour.
type fact struct {
	head string
	cell func(t map[string]string) (string, bool)
}

func drawFacts(w *strings.Builder, res *results, y int) {
	facts := []fact{
		{"every line intact", func(t map[string]string) (string, bool) {
			n := sumOf(t, "not_whole")
			if n == 0 {
				return "yes", true
			}
			return fmt.Sprintf("%s lines not whole", thousands(strconv.Itoa(n))), false
		}},
		{"left after Ctrl-C", func(t map[string]string) (string, bool) {
			o := t["orphans"]
			if o == "0" {
				return "nothing", true
			}
			unit := "processes"
			if o == "1" {
				unit = "process"
			}
			return fmt.Sprintf("%s %s (%s setsid)", o, unit, t["orphans_setsid"]), false
		}},
		{"final line without \\n", func(t map[string]string) (string, bool) {
			if t["final_line"] == "yes" {
				return "printed", true
			}
			return "lost", false
		}},
		{"a child exits 3", func(t map[string]string) (string, bool) {
			if t["fail_stops"] != "yes" {
				return "keeps running", false
			}
			return "stops, exit " + t["fail_exit"], t["fail_exit"] == "3"
		}},
	}
	fmt.Fprintf(w, `<text x="%d" y="%d" font-weight="bold" fill="%s">Correctness <tspan font-weight="normal" fill="%s">— throughput runs; Ctrl-C with 2 forked sleeps, 1 setsid sleep, 1 plain instance; a child that exits with 3</tspan></text>`+"\n",
		margin, y+14, ink, muted)
	left := margin + nameW
	colW := (width - left - margin) / len(facts)
	hy := y + titleH + 16
	for j, f := range facts {
		fmt.Fprintf(w, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", left+j*colW, hy, muted, esc(f.head))
	}
	for i, t := range res.tools {
		by := hy + 10 + i*(barH+barGap)
		weight := "normal"
		if t["tool"] == "proctor" {
			weight = "bold"
		}
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end" font-weight="%s" fill="%s">%s</text>`+"\n", left-8, by+barH-4, weight, ink, esc(label(t["tool"])))
		for j, f := range facts {
			text, ok := f.cell(t)
			mark, colour := "✔", good
			if !ok {
				mark, colour = "✘", bad
			}
			fmt.Fprintf(w, `<text x="%d" y="%d" fill="%s"><tspan font-weight="bold">%s</tspan> %s</text>`+"\n", left+j*colW, by+barH-4, colour, mark, esc(text))
		}
	}
}

func sumOf(t map[string]string, keys ...string) int {
	n := 0
	for _, k := range keys {
		v, _ := strconv.Atoi(t[k])
		n += v
	}
	return n
}

// trim prints a number with at most digits decimals, or s as it is.
func trim(s string, digits int) string {
	v, ok := num(s)
	if !ok {
		return s
	}
	return strconv.FormatFloat(v, 'f', digits, 64)
}

func thousands(s string) string {
	if len(s) <= 3 {
		return s
	}
	return thousands(s[:len(s)-3]) + "," + s[len(s)-3:]
}

func esc(s string) string { return html.EscapeString(s) }
