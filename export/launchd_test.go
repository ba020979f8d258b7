package export

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/proctor-run/proctor/env"
)

// launchdVars are hostile values; XML escapes them all.
var launchdVars = env.Vars{
	"HOSTILE": hostile,
	"XML":     "<![CDATA[ x ]]> &amp; </string></dict>",
	"CR":      "a\r\nb\r",
	"EMPTY":   "",
	"UNICODE": "grüße ☃ 🚀",
}

// TestLaunchdDecodes decodes every exported plist with howett.net/plist and
// checks every key.
func TestLaunchdDecodes(t *testing.T) {
	in := consumerInput(t, launchdVars)
	in.Instances[1].Command = hostileCommand + " && echo '&<>' \"\\\"\""
	files, err := Render(Launchd, in, Options{App: "sample", Root: "/srv/my app", User: "_sample", LogDir: "/var/log/s&mple", Timeout: 9e9})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(in.Instances) {
		t.Fatalf("%d files for %d instances", len(files), len(in.Instances))
	}
	for i, inst := range in.Instances {
		f := files[i]
		id := fmt.Sprintf("sample-%s-%d", inst.Type, inst.Num)
		if f.Path != id+".plist" {
			t.Errorf("file %d is %s, want %s.plist", i, f.Path, id)
		}
		var all map[string]any
		format, err := plist.Unmarshal(f.Data, &all)
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		if format != plist.XMLFormat {
			t.Errorf("%s: format %v, want XML", f.Path, format)
		}
		var got launchdPlist
		if _, err := plist.Unmarshal(f.Data, &got); err != nil {
			t.Fatal(err)
		}
		wantEnv := map[string]string{"PORT": fmt.Sprint(inst.Port), "PS": inst.Name}
		for k, v := range launchdVars {
			wantEnv[k] = v
		}
		want := launchdPlist{
			Label:                id,
			ProgramArguments:     []string{"/bin/sh", "-c", inst.Command},
			EnvironmentVariables: wantEnv,
			WorkingDirectory:     "/srv/my app",
			UserName:             "_sample",
			KeepAlive:            inst.Type != "release",
			RunAtLoad:            true,
			ExitTimeOut:          9,
			StandardOutPath:      "/var/log/s&mple/" + inst.Name + ".log",
			StandardErrorPath:    "/var/log/s&mple/" + inst.Name + ".log",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s decodes as\n%#v\nwant\n%#v", f.Path, got, want)
		}
		if len(all) != reflect.TypeOf(want).NumField() {
			t.Errorf("%s has %d keys, want %d: %v", f.Path, len(all), reflect.TypeOf(want).NumField(), all)
		}
	}
}

func TestLaunchdCannotHold(t *testing.T) {
	in := consumerInput(t, env.Vars{"BAD": "bell\a"})
	_, err := Render(Launchd, in, Options{App: "sample", Root: "/srv/sample"})
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(err.Error(), `variable "BAD" (env files) holds the character U+0007`) {
		t.Errorf("Render: %v, want an error naming BAD", err)
	}
}
