package procfile

import "strings"

// shellChars are the characters that give a command line shell syntax:
// quoting and escapes, expansions ($, backquotes, globs, ~, braces),
// redirections, pipes, lists, subshells, comments and history. A command
// holding none of them is a plain word list.
const shellChars = "\\'\"$`*?[]{}()<>|&;#~!\n\r"

// shellWords are the first words that only a shell can run: its keywords
// and the builtins with no program of the same name (cd, exec, export, ...)
// or whose program would not do the same (command, type).
var shellWords = map[string]bool{
	// keywords
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "case": true, "esac": true,
	"for": true, "while": true, "until": true, "do": true, "done": true, "in": true,
	"function": true, "select": true, "time": true, "coproc": true,
	// builtins
	".": true, ":": true, "alias": true, "bg": true, "break": true, "builtin": true, "cd": true,
	"command": true, "continue": true, "declare": true, "eval": true, "exec": true, "exit": true,
	"export": true, "fc": true, "fg": true, "getopts": true, "hash": true, "jobs": true,
	"let": true, "local": true, "read": true, "readonly": true, "return": true, "set": true,
	"shift": true, "source": true, "trap": true, "type": true, "typeset": true, "ulimit": true,
	"umask": true, "unalias": true, "unset": true, "wait": true,
}

// Argv returns the words of command when it is a plain word list that can
// run without a shell, as Ruby's spawn (which foreman uses) runs such a
// command: no shell syntax (shellChars), no assignment before the program
// (FOO=1 cmd), and a first word that is not a shell keyword or builtin.
// ok is false for anything else, which runs with /bin/sh -c.
func Argv(command string) (argv []string, ok bool) {
	if strings.ContainsAny(command, shellChars) {
		return nil, false
	}
	argv = strings.Fields(command)
	if len(argv) == 0 || strings.Contains(argv[0], "=") || shellWords[argv[0]] {
		return nil, false
	}
	return argv, true
}
