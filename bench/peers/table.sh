#!/usr/bin/env bash
# bench/peers/table.sh PEERS.TSV: the markdown table of bench/peers/run.sh's
# results (run.sh calls it; run it again to remake peers.md from the TSV).
set -euo pipefail
[[ $# == 1 ]] || {
	echo "usage: bench/peers/table.sh bench/peers/results/peers.tsv" >&2
	exit 2
}
awk -F'\t' '
function num(v, d) { return v == "n/a" || v == "" ? "n/a" : sprintf("%." d "f", v) }
function mib(k) { return k == "n/a" || k == "" ? "n/a" : sprintf("%.1f MiB", k / 1024) }
function thousands(n,   s) { s = n ""; while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); return s }
function label(t) { return t == "nf" ? "node-foreman" : t == "foreman" ? "foreman (Ruby)" : t }
/^# / { sub(/^# /, ""); meta[$1] = $2; next }
$1 == "tool" { for (i = 1; i <= NF; i++) col[$i] = i; next }
$2 == "skipped" { skip[++ns] = label($1) ": " $3; next }
{
	nt++; tool[nt] = $1
	for (k in col) v[nt, k] = $(col[k])
}
function cell(i, k) { return v[i, k] }
# shutdown(i, sig): the time until the tool has exited and no instance is
# left, or what was left.
function shutdown(i, sig,   s, left, stay) {
	left = cell(i, "left_" sig "_at_exit") + 0; stay = cell(i, "left_" sig "_after_10s") + 0
	if (stay) return "**never: " stay " instances still running 10 s after the tool exited (" num(cell(i, "shutdown_" sig "_exit_s"), 3) " s), all runs together**"
	s = num(cell(i, "shutdown_" sig "_s"), 3) " s"
	if (left) s = s " (" left " instances outlived the tool, all runs together)"
	return s
}
function row(name, ref,   i, s) {
	s = "| " name " | " ref
	for (i = 1; i <= nt; i++) s = s " | " out[i]
	print s " |"
}
END {
	split(meta["lines"], L, " x ")
	n = meta["instances"]
	s = "| measurement | floor / reference (same run)"
	for (i = 1; i <= nt; i++) s = s " | " label(tool[i])
	print s " |"
	s = "|---|---"
	for (i = 1; i <= nt; i++) s = s "|---"
	print s "|"

	for (i = 1; i <= nt; i++) out[i] = num(cell(i, "tp_s"), 2) " s (" cell(i, "tp_ratio") "×)"
	row("4 writers × " thousands(L[2]) " lines of 80 B into a file, wall time (× floor)", num(meta["floor_tp_s"], 2) " s (writers straight into the file)")
	for (i = 1; i <= nt; i++) out[i] = num(cell(i, "tp_cpu_s"), 2) " s"
	row("the same: CPU time of everything, user+sys", num(meta["floor_tp_cpu_s"], 2) " s")
	for (i = 1; i <= nt; i++) {
		bad = cell(i, "not_whole") + cell(i, "split") + cell(i, "altered")
		out[i] = bad ? "**" cell(i, "not_whole") " / " cell(i, "split") " / " cell(i, "altered") "**" : "0 / 0 / 0"
		if (cell(i, "disordered") + cell(i, "misnamed")) out[i] = out[i] " (" cell(i, "disordered") " out of order, " cell(i, "misnamed") " misnamed)"
	}
	row("writer lines not seen whole / pieces of split lines / altered lines, " thousands(4 * L[2] * meta["runs"]) " lines over all runs", "—")
	for (i = 1; i <= nt; i++) out[i] = num(cell(i, "startup_s"), 2) " s"
	row(n " instances up: launch → " n "th line out of the tool", num(meta["bash_startup_s"], 2) " s (bash `&` loop)")
	for (i = 1; i <= nt; i++) out[i] = shutdown(i, "term")
	row("shutdown of " n " on SIGTERM to the tool: until it has exited and no instance is left", num(meta["bash_shutdown_s"], 3) " s (bash `kill` + `wait`)")
	for (i = 1; i <= nt; i++) out[i] = shutdown(i, "int")
	row("shutdown of " n " on Ctrl-C (SIGINT to its process group): the same", "—")
	for (i = 1; i <= nt; i++) {
		out[i] = mib(cell(i, "rss_kib"))
		if (cell(i, "helpers_rss_kib") + 0) out[i] = out[i] " + " mib(cell(i, "helpers_rss_kib")) (tool[i] == "overmind" ? " (its tmux client; the tmux server not counted)" : " (guardian)")
	}
	row("peak RSS (VmHWM) of the tool with " n " instances", "—")
	for (i = 1; i <= nt; i++) out[i] = cell(i, "idle_cpu_ms") " ms, " cell(i, "idle_wakeups") " wakeups"
	row("idle " meta["idle_s"] " s with " n " instances: CPU (utime+stime), wakeups", "—")
	for (i = 1; i <= nt; i++) {
		o = cell(i, "orphans")
		out[i] = o == 0 ? "none" : "**" o "** (" cell(i, "orphans_forked") " forked, " cell(i, "orphans_setsid") " setsid, " cell(i, "orphans_plain") " plain" (cell(i, "orphans_shell") + 0 ? ", " cell(i, "orphans_shell") " shell" : "") ")"
		out[i] = out[i] "; " cell(i, "ctrl_c_exit")
	}
	row("processes left after Ctrl-C (of 2 forked `sleep`s, 1 `setsid sleep`, 1 plain instance); how the tool ended", "—")
	for (i = 1; i <= nt; i++) out[i] = cell(i, "final_line") == "yes" ? "yes" : "**no**"
	row("a final line without a newline is printed", "—")
	for (i = 1; i <= nt; i++) {
		c = cell(i, "fail_exit")
		out[i] = cell(i, "fail_stops") == "yes" ? c : "keeps running (" c " after Ctrl-C)"
		if (cell(i, "fail_stops") == "yes" && c != 3) out[i] = "**" c "**"
	}
	row("exit code when a child exits with 3", "—")
	print ""
	for (i = 1; i <= nt; i++) print "- " label(tool[i]) ": " cell(i, "version") (cell(i, "failures") + 0 ? " (" cell(i, "failures") " failed runs left out)" : "")
	for (i = 1; i <= ns; i++) print "- skipped: " skip[i]
	print ""
	print "Medians of " meta["runs"] " runs per tool, tools alternated within each run. Machine: " meta["machine"] ". Date: " meta["date"] ". Load average (1, 5, 15 min): " meta["load"] "."
}' "$1"
