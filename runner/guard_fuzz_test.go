package runner

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// guardGroupID is what the guardian takes for a group id: digits without a
// leading zero, more than 1, fewer than ten digits.
var guardGroupID = regexp.MustCompile(`^[1-9][0-9]{0,8}$`)

// FuzzGuardEvents: what the guardian script reads from proctor's pipe is
// applied line by line: "=T" sets the token (the last one wins), "+N" adds
// group N, "-N" removes it, "bye" ends it, and anything else (a group id of
// 1 too: never a group of proctor's) is ignored. The model below says the
// same in Go; each input runs the real script under /bin/sh and, where it
// exists, the compiled guardian, and both keep the groups in the order
// they came.
func FuzzGuardEvents(f *testing.F) {
	for _, s := range []string{"+10\n+20\n-10\n", "+10\nbye\n+20\n", "+x\n?5\n+\n+1\n+-3\n+30\n", "+10\r\n -10 \n+11", " bye \n", "+0\n+2\n-2\n+2\n", "+9999999999999999999999\n", "=abc\n+10\n=def\n", "+10\n+100\n-10\n", "=*\n+2\n+2\n"} {
		f.Add(s)
	}
	impls := guardianImpls(f)
	f.Fuzz(func(t *testing.T, in string) {
		// proctor writes neither NUL bytes, which shells drop, nor lines
		// of a kilobyte.
		if strings.ContainsRune(in, 0) || len(in) > 4096 {
			return
		}
		var model []string
		modelBye, modelToken := false, ""
		for _, line := range strings.Split(in, "\n") {
			if line == "bye" {
				modelBye = true
				break
			}
			if len(line) < 2 {
				continue
			}
			id := line[1:]
			switch {
			case line[0] == '=':
				modelToken = id
			case !guardGroupID.MatchString(id) || id == "1":
			case line[0] == '+' && !slices.Contains(model, id):
				model = append(model, id)
			case line[0] == '-':
				model = slices.DeleteFunc(model, func(g string) bool { return g == id })
			}
		}
		if modelBye {
			model, modelToken = nil, ""
		}
		for _, g := range impls {
			token, groups, bye := guardList(t, g, in)
			if bye != modelBye || !slices.Equal(groups, model) || token != modelToken {
				t.Fatalf("the %s guardian read %q as %v, %q, %v; want %v, %q, %v", g.name, in, groups, token, bye, model, modelToken, modelBye)
			}
		}
	})
}
