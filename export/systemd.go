package export

// systemd: APP.target plus one unit per instance, APP-TYPE-N.service.
//
// Per-instance units rather than template units (APP-TYPE@.service): a
// template unit gets one instance string, but each instance needs two
// values of its own (PORT and PS), and per-instance units keep them exact
// and visible in `systemctl cat`.

// checkSystemd rejects what a unit file cannot hold. Environment values can
// hold anything valid UTF-8 (C escapes in double quotes), so only the
// one-line settings are checked.
func checkSystemd(d *Data) error {
	for _, s := range []string{d.User, d.Root, d.App} {
		if _, err := systemdValue(Systemd, s); err != nil {
			return err
		}
	}
	return nil
}

func renderSystemd(d *Data, t *templates) ([]File, error) {
	var files []File
	target, err := t.execute("target.tmpl", d)
	if err != nil {
		return nil, err
	}
	files = append(files, File{Path: d.App + ".target", Data: target, Mode: 0o644})
	for _, inst := range d.Instances {
		unit, err := t.execute("service.tmpl", d.perInstance(inst))
		if err != nil {
			return nil, err
		}
		// The unit holds the env files' values, which may be secrets.
		files = append(files, File{Path: inst.ID + ".service", Data: unit, Mode: 0o600})
	}
	return files, nil
}
