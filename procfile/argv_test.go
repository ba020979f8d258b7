package procfile_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/proctor-run/proctor/procfile"
)

// TestArgv: the boundary between a command proctor runs itself and one it
// gives to /bin/sh -c.
func TestArgv(t *testing.T) {
	direct := map[string][]string{
		"bundle exec puma -C config/puma.rb":   {"bundle", "exec", "puma", "-C", "config/puma.rb"},
		"bin/rails server -p 3000":             {"bin/rails", "server", "-p", "3000"},
		"./bin/webpack-dev-server --hot":       {"./bin/webpack-dev-server", "--hot"},
		"node server.js --port=3000":           {"node", "server.js", "--port=3000"}, // = after the program is a word
		"sleep 1000":                           {"sleep", "1000"},
		"  npm\trun   dev  ":                   {"npm", "run", "dev"},
		"python3 -m http.server 8000 --bind 0": {"python3", "-m", "http.server", "8000", "--bind", "0"},
		"echo up":                              {"echo", "up"}, // a builtin with a program of the same name
		"a%b,c^d@e:f+g":                        {"a%b,c^d@e:f+g"},
	}
	for cmd, want := range direct {
		got, ok := procfile.Argv(cmd)
		assert.True(t, ok, "%q runs without a shell", cmd)
		assert.Equal(t, want, got, cmd)
	}
	for _, cmd := range []string{
		"exec puma",           // a builtin
		"cd web && npm start", // a builtin, and &&
		"export FOO=1",        // a builtin
		"FOO=1 cmd",           // an assignment
		"cmd 2>&1",            // a redirection
		"cmd > log",           // a redirection
		"cmd | tee log",       // a pipe
		"a; b",                // a list
		"cmd &",               // background
		"~/bin/x",             // tilde expansion
		"a\\ b",               // an escape
		"echo 'quoted'",       // quotes
		`echo "$PORT"`,        // an expansion
		"echo $PORT",          // an expansion
		"echo `date`",         // command substitution
		"ls *.rb",             // a glob
		"ls file?",            // a glob
		"ls [ab]",             // a glob
		"echo {a,b}",          // brace expansion
		"(cd x)",              // a subshell
		"cmd # comment",       // a comment
		"! cmd",               // negation
		"if true; then x; fi", // a keyword
		"while :; do x; done", // a keyword
		"time cmd",            // a keyword
		"source .env",         // a builtin
		". ./env",             // a builtin
		"wait",                // a builtin
		"",                    // nothing
		"   ",                 // nothing
		"line1\nline2",        // a newline
	} {
		argv, ok := procfile.Argv(cmd)
		assert.False(t, ok, "%q needs a shell (got %q)", cmd, argv)
	}
}
