package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"unicode"
)

// funcs are the functions every template may call. Each one escapes for one
// consumer; functions that can meet a value their consumer cannot hold
// return an *Error naming what they were given.
func funcs(format string) template.FuncMap {
	return template.FuncMap{
		"shquote":           shellQuote,
		"systemdValue":      func(s string) (string, error) { return systemdValue(format, s) },
		"systemdEnv":        systemdEnv,
		"systemdExec":       systemdExec,
		"supervisorValue":   func(s string) (string, error) { return supervisorValue(format, s) },
		"supervisorEnv":     func(vars []Var) (string, error) { return supervisorEnv(format, vars) },
		"supervisorCommand": supervisorCommand,
		"xml":               xmlEscape,
		"plist":             plistString,
		"launchdJob":        launchdJob,
		"yaml":              yamlString,
		"json":              jsonString,
		"composeEscape":     composeEscape,
		"composeFile":       composeFile,
		"kubernetesObjects": kubernetesObjects,
		"dnsName":           func(s string) (string, error) { return dnsLabel(format, fmt.Sprintf("name %q", s), s) },
		"join":              strings.Join,
	}
}

// shellQuote returns s as one POSIX shell word: in single quotes, each
// single quote written as quote, backslash, quote, quote. Every byte but
// NUL survives.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// systemdValue escapes a one-line setting of a unit file whose value is
// taken as it stands (User=, WorkingDirectory=, Description=): specifiers
// are expanded there, so '%' is doubled. systemd trims such values and reads
// a final backslash as a line continuation, so those cannot be held.
func systemdValue(format, s string) (string, error) {
	switch {
	case strings.ContainsAny(s, "\n\r"):
		return "", &Error{Format: format, What: fmt.Sprintf("setting %q", s), Problem: "holds a line break, which a unit file setting cannot hold"}
	case strings.TrimSpace(s) != s:
		return "", &Error{Format: format, What: fmt.Sprintf("setting %q", s), Problem: "starts or ends with white space, which systemd trims"}
	case strings.HasSuffix(s, `\`):
		return "", &Error{Format: format, What: fmt.Sprintf("setting %q", s), Problem: "ends with a backslash, which systemd reads as a line continuation"}
	}
	return strings.ReplaceAll(s, "%", "%%"), nil
}

// systemdEnv returns v as one word of an Environment= line: the assignment
// in double quotes, with C escapes for '\', '"' and control characters and
// '%' doubled (specifiers are expanded in Environment=; '$' is not, so it
// stays as it is).
func systemdEnv(v Var) string {
	return systemdQuote(v.Name+"="+v.Value, false)
}

// systemdExec returns args as the value of an ExecStart= line. Each
// argument is quoted unless it is plain; '%' is doubled and '$' written as
// "$$", systemd's literal dollar, so neither specifiers nor variables are
// expanded by systemd and the shell gets the command exactly.
func systemdExec(args ...string) string {
	words := make([]string, len(args))
	for i, a := range args {
		plain := a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:+=,-") == ""
		// In the first word, a leading -, @, :, + or ! is a prefix to systemd.
		if plain && (i > 0 || !strings.ContainsRune("-@:+!", rune(a[0]))) {
			words[i] = a
			continue
		}
		words[i] = systemdQuote(a, true)
	}
	return strings.Join(words, " ")
}

// systemdQuote writes s in double quotes for systemd's unquoting: C escapes
// for '\\', '"' and control characters, '%' doubled, and with exec '$'
// doubled too.
func systemdQuote(s string, exec bool) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		case c == '%':
			b.WriteString("%%")
		case c == '$' && exec:
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pySpace reports whether Python's str.isspace holds for r: what
// configparser takes as the white space before an inline comment.
func pySpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// inlineComment reports whether s holds a ';' or '#' after white space,
// which supervisord's configparser cuts off as a comment wherever it is.
func inlineComment(s string) bool {
	prev := rune(-1)
	for _, r := range s {
		if (r == ';' || r == '#') && prev >= 0 && pySpace(prev) {
			return true
		}
		prev = r
	}
	return false
}

// supervisorValue escapes a one-line supervisord setting taken as it stands
// (directory=, user=, stdout_logfile=): '%' is doubled, as supervisord
// expands %(name)s there.
func supervisorValue(format, s string) (string, error) {
	what := fmt.Sprintf("setting %q", s)
	if err := supervisorLine(format, what, s); err != nil {
		return "", err
	}
	if strings.TrimFunc(s, pySpace) != s {
		return "", &Error{Format: format, What: what, Problem: "starts or ends with white space, which supervisord trims"}
	}
	return strings.ReplaceAll(s, "%", "%%"), nil
}

// supervisorLine checks what every value in supervisord's ini file needs.
func supervisorLine(format, what, s string) error {
	switch {
	case strings.ContainsAny(s, "\n\r"):
		return &Error{Format: format, What: what, Problem: "holds a line break, which supervisord's configuration cannot hold"}
	case inlineComment(s):
		return &Error{Format: format, What: what, Problem: "holds ';' or '#' after white space, which supervisord's configuration reads as a comment"}
	}
	return nil
}

// supervisorEnv returns vars as the value of environment=: KEY="value"
// pairs joined by commas, '%' doubled. supervisord splits the value with
// Python's shlex in non-POSIX mode, which knows no escapes, and then strips
// every quote character from both ends of the value; so a value may hold
// one kind of quote (the other one quotes it) but not both, must not start
// or end with a quote, and must not hold a line break or a ';' or '#' after
// white space (an inline comment).
func supervisorEnv(format string, vars []Var) (string, error) {
	pairs := make([]string, len(vars))
	for i, v := range vars {
		what := varWhat(v.Name)
		if err := supervisorLine(format, what, v.Value); err != nil {
			return "", err
		}
		q := `"`
		switch {
		case strings.Contains(v.Value, `"`) && strings.Contains(v.Value, `'`):
			return "", &Error{Format: format, What: what, Problem: `holds both ' and ", which supervisord's environment= cannot hold together (its parser has no escapes)`}
		case strings.Contains(v.Value, `"`):
			q = `'`
		}
		if strings.Trim(v.Value, `'"`) != v.Value {
			return "", &Error{Format: format, What: what, Problem: "starts or ends with a quote, which supervisord strips from environment= values"}
		}
		pairs[i] = v.Name + "=" + q + strings.ReplaceAll(v.Value, "%", "%%") + q
	}
	return strings.Join(pairs, ","), nil
}

// supervisorCommand returns args as the value of command=, which supervisord
// expands ('%' doubled) and splits with Python's shlex.split (POSIX rules).
// An argument that is not plain is double-quoted with '\' and '"' escaped,
// and "" is put between white space and a following ';' or '#' so that the
// ini parser does not take them for a comment.
func supervisorCommand(args ...string) (string, error) {
	words := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "\n\r") {
			return "", fmt.Errorf("argument %q holds a line break, which supervisord's configuration cannot hold", a)
		}
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@+=,-") == "" {
			words[i] = a
			continue
		}
		var b strings.Builder
		b.WriteByte('"')
		prev := rune(-1)
		for _, r := range a {
			if (r == ';' || r == '#') && prev >= 0 && pySpace(prev) {
				b.WriteString(`""`)
			}
			if r == '\\' || r == '"' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
			prev = r
		}
		b.WriteByte('"')
		words[i] = b.String()
	}
	return strings.ReplaceAll(strings.Join(words, " "), "%", "%%"), nil
}

// xmlEscape escapes s for XML character data and attribute values.
func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '\r':
			b.WriteString("&#xD;")
		case '\t':
			b.WriteString("&#x9;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// jsonString returns v as JSON on one line, without HTML escaping. A JSON
// string is also a valid YAML double-quoted scalar.
func jsonString(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
