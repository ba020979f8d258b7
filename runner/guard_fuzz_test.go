package runner

import (
	"maps"
	"strconv"
	"strings"
	"testing"
)

// FuzzGuardEvents: what the guardian reads from proctor's pipe is applied
// line by line: "=T" sets the token (the last one wins), "+N" adds group N,
// "-N" removes it, "bye" ends it, and
// anything else (a group id of 0 or 1 too: never a group of proctor's) is
// ignored. The model below says the same in other words.
func FuzzGuardEvents(f *testing.F) {
	for _, s := range []string{"+10\n+20\n-10\n", "+10\nbye\n+20\n", "+x\n?5\n+\n+1\n+-3\n+30\n", "+10\r\n -10 \n+11", " bye \n", "+0\n+2\n-2\n+2\n", "+9999999999999999999999\n", "=abc\n+10\n=def\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		groups, token, bye := readGuardEvents(strings.NewReader(in))
		for g := range groups {
			if g <= 1 {
				t.Fatalf("readGuardEvents(%q) lists group %d", in, g)
			}
		}
		// bufio.Scanner stops at a line over 64 KiB; proctor never
		// writes one.
		if len(in) >= 64<<10 {
			return
		}
		model := map[int]bool{}
		modelBye := false
		modelToken := ""
		for _, line := range strings.Split(in, "\n") {
			line = strings.TrimSpace(line)
			if line == "bye" {
				modelBye = true
				break
			}
			if len(line) < 2 {
				continue
			}
			if line[0] == '=' {
				modelToken = line[1:]
				continue
			}
			if n, err := strconv.Atoi(line[1:]); err == nil && n > 1 {
				switch line[0] {
				case '+':
					model[n] = true
				case '-':
					delete(model, n)
				}
			}
		}
		if bye != modelBye || !maps.Equal(groups, model) || token != modelToken {
			t.Fatalf("readGuardEvents(%q) = %v, %q, %v; want %v, %q, %v", in, groups, token, bye, model, modelToken, modelBye)
		}
	})
}
