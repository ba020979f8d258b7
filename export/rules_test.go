package export

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/proctor-run/proctor/env"
	"github.com/proctor-run/proctor/procfile"
)

// rulesInput is an app with .proctor start rules: web after db and redis;
// db ready on an http path, redis on a log line, worker on a command;
// worker with an env file of its own.
func rulesInput(t *testing.T) Input {
	t.Helper()
	entries, err := procfile.ParseBytes([]byte("web: serve\ndb: pg\nredis: redis-server\nworker: work\n"))
	if err != nil {
		t.Fatal(err)
	}
	app := procfile.App{
		Entries: entries, Ports: procfile.Ports{Base: 5000, Step: 100},
		Environ:     env.Environ(nil, env.Vars{"SHARED": "1"}, true),
		TypeEnviron: map[string][]string{"worker": env.Environ(nil, env.Vars{"SHARED": "1", "QUEUE": "jobs $1"}, true)},
		Rules: map[string]procfile.Rules{
			"web":    {After: []string{"db", "redis"}},
			"db":     {Ready: procfile.Readiness{Kind: procfile.ReadyHTTP, Arg: "/health"}, ReadyTimeout: 9 * time.Second},
			"redis":  {Ready: procfile.Readiness{Kind: procfile.ReadyLog, Arg: "Ready to accept"}},
			"worker": {Ready: procfile.Readiness{Kind: procfile.ReadyExec, Arg: "test -f $HOME/ok"}},
		},
	}
	instances, err := app.Plan([]int{1, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	return Input{Entries: entries, Instances: instances, Rules: app.Rules}
}

// TestRulesSystemd: after becomes Requires= and After= on every instance
// of the types waited for; systemd-analyze reads the units.
func TestRulesSystemd(t *testing.T) {
	opts := sampleOptions
	opts.Expose = nil
	dir, files := render(t, Systemd, rulesInput(t), opts)
	unit := readFile(t, filepath.Join(dir, "sample-web-1.service"))
	for _, want := range []string{"Requires=sample-db-1.service\nAfter=sample-db-1.service\n", "Requires=sample-redis-1.service\nAfter=sample-redis-1.service\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("sample-web-1.service lacks %q:\n%s", want, unit)
		}
	}
	if strings.Contains(readFile(t, filepath.Join(dir, "sample-db-1.service")), "Requires=") {
		t.Error("db waits for nothing")
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "sample-worker-1.service")), `Environment="QUEUE=jobs $1"`) {
		t.Error("worker's own env file is not in its unit")
	}
	dump := systemdDump(t, dir, files, true)
	web := systemdUnitDump(t, dump, "sample-web-1.service")
	for _, want := range []string{"After: sample-db-1.service", "Requires: sample-db-1.service", "After: sample-redis-1.service"} {
		if !strings.Contains(web, want) {
			t.Errorf("systemd does not read %q from web's unit:\n%s", want, web)
		}
	}
}

// TestRulesCompose: after becomes depends_on, service_healthy where the
// dependency's ready check makes a healthcheck (http, exec), else
// service_started; compose-go loads the file.
func TestRulesCompose(t *testing.T) {
	opts := sampleOptions
	opts.Expose = nil
	_, files := render(t, Compose, rulesInput(t), opts)
	p := loadCompose(t, t.TempDir(), files[0].Data)
	web, err := p.GetService("web-1")
	if err != nil {
		t.Fatal(err)
	}
	if c := web.DependsOn["db-1"].Condition; c != "service_healthy" {
		t.Errorf("web-1 depends on db-1 with %q, want service_healthy", c)
	}
	if c := web.DependsOn["redis-1"].Condition; c != "service_started" {
		t.Errorf("web-1 depends on redis-1 with %q, want service_started (a log line makes no healthcheck)", c)
	}
	db, _ := p.GetService("db-1")
	if db.HealthCheck == nil || strings.Join(db.HealthCheck.Test, " ") != "CMD-SHELL wget -q -O /dev/null 'http://127.0.0.1:5100/health' || curl -fsS -o /dev/null 'http://127.0.0.1:5100/health'" {
		t.Errorf("db-1 healthcheck %+v", db.HealthCheck)
	} else if *db.HealthCheck.Retries != 5 || db.HealthCheck.Interval.String() != "2s" {
		t.Errorf("db-1 healthcheck covers 9s as %d retries every %s, want 5 every 2s", *db.HealthCheck.Retries, db.HealthCheck.Interval)
	}
	worker, _ := p.GetService("worker-1")
	if worker.HealthCheck == nil || strings.Join(worker.HealthCheck.Test, " ") != "CMD-SHELL test -f $HOME/ok" {
		t.Errorf("worker-1 healthcheck %+v (the $ written $$ and read back as $)", worker.HealthCheck)
	}
	if v := worker.Environment["QUEUE"]; v == nil || *v != "jobs $1" {
		t.Errorf("worker-1 QUEUE = %v", v)
	}
	if redis, _ := p.GetService("redis-1"); redis.HealthCheck != nil {
		t.Errorf("redis-1 got a healthcheck: %+v", redis.HealthCheck)
	}
}

// TestRulesKubernetes: ready checks become readiness probes (http, exec;
// log cannot), a type's own env file its container's env; the objects
// decode strictly.
func TestRulesKubernetes(t *testing.T) {
	opts := sampleOptions
	opts.Expose = nil
	_, files := render(t, Kubernetes, rulesInput(t), opts)
	deployments := map[string]*appsv1.Deployment{}
	for _, o := range k8sObjects(t, files[0].Data) {
		if d, ok := o.(*appsv1.Deployment); ok {
			deployments[d.Name] = d
		}
	}
	probe := deployments["sample-db"].Spec.Template.Spec.Containers[0].ReadinessProbe
	if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != "/health" || probe.HTTPGet.Port.IntValue() != 5100 || probe.PeriodSeconds != 2 || probe.FailureThreshold != 5 {
		t.Errorf("db readiness probe %+v", probe)
	}
	wc := deployments["sample-worker"].Spec.Template.Spec.Containers[0]
	if wc.ReadinessProbe == nil || wc.ReadinessProbe.Exec == nil || strings.Join(wc.ReadinessProbe.Exec.Command, " ") != "/bin/sh -c test -f $HOME/ok" {
		t.Errorf("worker readiness probe %+v", wc.ReadinessProbe)
	}
	found := false
	for _, e := range wc.Env {
		if e.Name == "QUEUE" && e.Value == "jobs $$1" {
			found = true
		}
	}
	if !found {
		t.Errorf("worker's env lacks QUEUE (with $ escaped for Kubernetes): %+v", wc.Env)
	}
	if p := deployments["sample-redis"].Spec.Template.Spec.Containers[0].ReadinessProbe; p != nil {
		t.Errorf("redis got a probe from a log check: %+v", p)
	}
	if p := deployments["sample-web"].Spec.Template.Spec.Containers[0].ReadinessProbe; p != nil {
		t.Errorf("web has no ready check but got a probe: %+v", p)
	}
}

// TestUnsupported: what a format cannot express is named, once.
func TestUnsupported(t *testing.T) {
	in := rulesInput(t)
	for format, want := range map[string]string{
		Systemd:     "export systemd: not exported: ready checks: units start in order, not on readiness (db, redis, worker); watch (web)",
		Supervisord: "export supervisord: not exported: after (web); ready checks (db, redis, worker); watch (web)",
		Compose:     "export compose: not exported: ready checks a healthcheck cannot hold (redis log); watch (web)",
		Kubernetes:  "export kubernetes: not exported: after: Kubernetes has no start order (web); log ready checks (redis); watch (web)",
	} {
		if got := Unsupported(format, in, nil, []string{"web"}); got != want {
			t.Errorf("%s:\n got %q\nwant %q", format, got, want)
		}
	}
	if got := Unsupported(Runit, Input{Entries: in.Entries}, []string{"worker"}, nil); got != "export runit: not exported: log_file: the target keeps the logs (worker)" {
		t.Errorf("runit: %q", got)
	}
	if got := Unsupported(Launchd, Input{Entries: in.Entries}, nil, nil); got != "" {
		t.Errorf("no rules, nothing to say: %q", got)
	}

}
