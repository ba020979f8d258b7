package export

import (
	"path"
	"strings"
)

// runit: one service directory per instance, APP-TYPE-N/, holding run,
// log/run and env/, the environment directory chpst -e reads: one file per
// variable, named after it, holding the value on its first line.
//
// chpst turns NUL bytes in that line into newlines, so a value with a
// newline is written with NULs and arrives intact; but chpst strips spaces
// and tabs from the end of the line, so a value ending in one cannot be
// held. The release instance's run script tells runsv (`sv once`) not to
// restart it when it exits; runit has no ordering, so the others do not
// wait for it.

// checkRunit rejects values chpst's environment directory cannot hold.
func checkRunit(d *Data) error {
	if len(d.Instances) == 0 {
		return nil
	}
	for _, v := range d.Instances[0].Env {
		if strings.TrimRight(v.Value, " \t") != v.Value {
			return &Error{Format: Runit, What: varWhat(v.Name), Problem: "ends with a space or tab, which chpst -e strips from the values it reads"}
		}
	}
	return nil
}

func renderRunit(d *Data, t *templates) ([]File, error) {
	var files []File
	for _, inst := range d.Instances {
		di := d.perInstance(inst)
		run, err := t.execute("run.tmpl", di)
		if err != nil {
			return nil, err
		}
		logRun, err := t.execute("log-run.tmpl", di)
		if err != nil {
			return nil, err
		}
		files = append(files,
			File{Path: inst.ID, Mode: 0o755 | dirMode},
			File{Path: path.Join(inst.ID, "run"), Data: run, Mode: 0o755},
			File{Path: path.Join(inst.ID, "log"), Mode: 0o755 | dirMode},
			File{Path: path.Join(inst.ID, "log", "run"), Data: logRun, Mode: 0o755},
			// The values may be secrets: chpst reads them as root, before
			// it switches to the user.
			File{Path: path.Join(inst.ID, "env"), Mode: 0o700 | dirMode},
		)
		for _, v := range inst.Env {
			value := strings.ReplaceAll(v.Value, "\n", "\x00") + "\n"
			files = append(files, File{Path: path.Join(inst.ID, "env", v.Name), Data: []byte(value), Mode: 0o600})
		}
	}
	return files, nil
}
