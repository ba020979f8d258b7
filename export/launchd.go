package export

import (
	"fmt"
	"path"

	"howett.net/plist"
)

// launchd: one property list per instance, APP-TYPE-N.plist, for
// /Library/LaunchDaemons. launchd has no ordering between jobs: the release
// job runs at load and is not kept alive.

// launchdPlist is a launchd job, as launchd.plist(5) names its keys.
type launchdPlist struct {
	Label                string            `plist:"Label"`
	ProgramArguments     []string          `plist:"ProgramArguments"`
	EnvironmentVariables map[string]string `plist:"EnvironmentVariables"`
	WorkingDirectory     string            `plist:"WorkingDirectory"`
	UserName             string            `plist:"UserName"`
	KeepAlive            bool              `plist:"KeepAlive"`
	RunAtLoad            bool              `plist:"RunAtLoad"`
	ExitTimeOut          int               `plist:"ExitTimeOut"`
	StandardOutPath      string            `plist:"StandardOutPath"`
	StandardErrorPath    string            `plist:"StandardErrorPath"`
}

// launchdJob returns the job of the instance d renders.
func launchdJob(d *Data) (*launchdPlist, error) {
	inst := d.Instance
	if inst == nil {
		return nil, fmt.Errorf("launchdJob: the template is not rendering an instance")
	}
	env := make(map[string]string, len(inst.Env))
	for _, v := range inst.Env {
		env[v.Name] = v.Value
	}
	log := path.Join(d.LogDir, inst.Name+".log")
	return &launchdPlist{
		Label:                inst.ID,
		ProgramArguments:     []string{"/bin/sh", "-c", inst.Command},
		EnvironmentVariables: env,
		WorkingDirectory:     d.Root,
		UserName:             d.User,
		KeepAlive:            !inst.Release,
		RunAtLoad:            true,
		ExitTimeOut:          d.Timeout,
		StandardOutPath:      log,
		StandardErrorPath:    log,
	}, nil
}

// plistString encodes v as an XML property list.
func plistString(v any) (string, error) {
	b, err := plist.MarshalIndent(v, plist.XMLFormat, "\t")
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

// xmlChar reports whether r may appear in an XML 1.0 document.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

func firstNonXML(s string) (rune, bool) {
	for _, r := range s {
		if !xmlChar(r) {
			return r, true
		}
	}
	return 0, false
}

// checkLaunchd rejects characters XML cannot carry, even escaped.
func checkLaunchd(d *Data) error {
	problem := func(r rune) string {
		return fmt.Sprintf("holds the character %U, which an XML property list cannot hold", r)
	}
	if len(d.Instances) > 0 {
		for _, v := range d.Instances[0].Env {
			if r, bad := firstNonXML(v.Value); bad {
				return &Error{Format: Launchd, What: varWhat(v.Name), Problem: problem(r)}
			}
		}
	}
	for _, t := range d.Types {
		if r, bad := firstNonXML(t.Command); bad {
			return &Error{Format: Launchd, What: cmdWhat(t.Name), Problem: problem(r)}
		}
	}
	return nil
}

func renderLaunchd(d *Data, t *templates) ([]File, error) {
	var files []File
	for _, inst := range d.Instances {
		b, err := t.execute("launchd.plist.tmpl", d.perInstance(inst))
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: inst.ID + ".plist", Data: b, Mode: 0o600})
	}
	return files, nil
}
