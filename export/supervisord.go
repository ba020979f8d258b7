package export

// supervisord: one file, APP.conf, to include from supervisord.conf, with a
// [group:APP] and a [program:APP-TYPE-N] per instance. supervisord has no
// ordering between programs: the release program is started first (lower
// priority) but the others do not wait for it.

// checkSupervisord rejects the values supervisord's configuration cannot
// hold, naming them, before anything is rendered.
func checkSupervisord(d *Data) error {
	for _, s := range []string{d.User, d.Root, d.LogDir} {
		if _, err := supervisorValue(Supervisord, s); err != nil {
			return err
		}
	}
	if len(d.Instances) > 0 {
		if _, err := supervisorEnv(Supervisord, d.Instances[0].Env); err != nil {
			return err
		}
	}
	return nil
}

func renderSupervisord(d *Data, t *templates) ([]File, error) {
	conf, err := t.execute("supervisord.conf.tmpl", d)
	if err != nil {
		return nil, err
	}
	return []File{{Path: d.App + ".conf", Data: conf, Mode: 0o600}}, nil
}
