package procfile_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proctor-run/proctor/procfile"
)

func TestParseFormationAccepts(t *testing.T) {
	tests := []struct {
		in   string
		want procfile.Formation
	}{
		{"all=1", procfile.Formation{All: 1, HasAll: true}},
		{"all=0", procfile.Formation{All: 0, HasAll: true}},
		{"web=2", procfile.Formation{Counts: []procfile.TypeCount{{"web", 2}}}},
		{"web=0", procfile.Formation{Counts: []procfile.TypeCount{{"web", 0}}}},
		{
			"all=1,web=2,worker=0",
			procfile.Formation{Counts: []procfile.TypeCount{{"web", 2}, {"worker", 0}}, All: 1, HasAll: true},
		},
		{
			"worker=3,all=2,web=1",
			procfile.Formation{Counts: []procfile.TypeCount{{"worker", 3}, {"web", 1}}, All: 2, HasAll: true},
		},
		{" web = 2 , worker=1 ", procfile.Formation{Counts: []procfile.TypeCount{{"web", 2}, {"worker", 1}}}},
		{"web=\t2", procfile.Formation{Counts: []procfile.TypeCount{{"web", 2}}}},
		{"web=007", procfile.Formation{Counts: []procfile.TypeCount{{"web", 7}}}},
		{"Web_1-x=1", procfile.Formation{Counts: []procfile.TypeCount{{"Web_1-x", 1}}}},
		{"web=10000", procfile.Formation{Counts: []procfile.TypeCount{{"web", procfile.MaxCount}}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := procfile.ParseFormation(tt.in)
			require.NoError(t, err, "ParseFormation(%q)", tt.in)
			assert.Equal(t, tt.want, got, "ParseFormation(%q)", tt.in)
		})
	}
}

func TestParseFormationRejects(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "formation: empty (expected TYPE=N[,TYPE=N...])"},
		{"  ", "formation: empty (expected TYPE=N[,TYPE=N...])"},
		{"web", `formation: malformed pair "web" (expected TYPE=N)`},
		{"web=", `formation: malformed pair "web=" (expected TYPE=N)`},
		{"=2", `formation: malformed pair "=2" (expected TYPE=N)`},
		{"web=1,", `formation: malformed pair "" (expected TYPE=N)`},
		{",web=1", `formation: malformed pair "" (expected TYPE=N)`},
		{"web=1,,worker=1", `formation: malformed pair "" (expected TYPE=N)`},
		{"web:2", `formation: malformed pair "web:2" (expected TYPE=N)`},
		{"web=1;worker=2", `formation: count for "web" must be a whole number from 0 to 10000, not "1;worker=2"`},
		{"web=-1", `formation: count for "web" must be a whole number from 0 to 10000, not "-1"`},
		{"web=+5", `formation: count for "web" must be a whole number from 0 to 10000, not "+5"`},
		{"web=two", `formation: count for "web" must be a whole number from 0 to 10000, not "two"`},
		{"web=1.5", `formation: count for "web" must be a whole number from 0 to 10000, not "1.5"`},
		{"web=0x10", `formation: count for "web" must be a whole number from 0 to 10000, not "0x10"`},
		{"web=1 2", `formation: count for "web" must be a whole number from 0 to 10000, not "1 2"`},
		{"web=2=3", `formation: count for "web" must be a whole number from 0 to 10000, not "2=3"`},
		{"web=10001", `formation: count for "web" is 10001, more than the limit of 10000`},
		{"all=99999999999999999999", `formation: count for "all" must be a whole number from 0 to 10000, not "99999999999999999999"`},
		{"web server=1", `formation: invalid process type "web server"`},
		{"web.1=1", `formation: invalid process type "web.1"`},
		{"web=1,web=2", `formation: "web" is named twice`},
		{"all=1,all=2", `formation: "all" is named twice`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := procfile.ParseFormation(tt.in)
			require.Error(t, err, "ParseFormation(%q) = %+v, want an error", tt.in, got)
			assert.Equal(t, tt.want, err.Error(), "ParseFormation(%q)", tt.in)
			assert.ErrorIs(t, err, procfile.ErrFormation)
			assert.Equal(t, procfile.Formation{}, got, "a failed parse returns the zero Formation")
		})
	}
}

func entries(names ...string) []procfile.Entry {
	out := make([]procfile.Entry, len(names))
	for i, n := range names {
		out[i] = procfile.Entry{Name: n, Command: "run-" + n, Line: i + 1}
	}
	return out
}

func TestResolve(t *testing.T) {
	app := entries("web", "worker", "clock")
	tests := []struct {
		name      string
		entries   []procfile.Entry
		formation string // "" means no -m flag
		types     []string
		want      []int
	}{
		{name: "no flag runs one of each", want: []int{1, 1, 1}},
		{name: "all=2", formation: "all=2", want: []int{2, 2, 2}},
		{name: "all=0", formation: "all=0", want: []int{0, 0, 0}},
		{name: "a type named alone gives 0 to the others", formation: "web=2", want: []int{2, 0, 0}},
		{name: "all applies to types not named", formation: "all=1,web=3,clock=0", want: []int{3, 1, 0}},
		{name: "order of pairs does not matter", formation: "clock=0,web=3,all=1", want: []int{3, 1, 0}},
		{name: "types without a formation", types: []string{"worker"}, want: []int{0, 1, 0}},
		{name: "several types", types: []string{"clock", "web"}, want: []int{1, 0, 1}},
		{name: "a type given twice", types: []string{"web", "web"}, want: []int{1, 0, 0}},
		{name: "types with a count for one of them", formation: "web=3", types: []string{"web", "worker"}, want: []int{3, 1, 0}},
		{name: "types with all", formation: "all=2", types: []string{"web", "clock"}, want: []int{2, 0, 2}},
		{name: "a count for a type not selected is ignored", formation: "clock=4", types: []string{"web"}, want: []int{1, 0, 0}},
		{name: "a selected type with count 0", formation: "web=0", types: []string{"web", "worker"}, want: []int{0, 1, 0}},
		{
			name: "release runs once under all=N", entries: entries("release", "web"),
			formation: "all=3", want: []int{1, 3},
		},
		{
			name: "release is skipped under all=0", entries: entries("release", "web"),
			formation: "all=0,web=1", want: []int{0, 1},
		},
		{
			name: "release=1 is fine", entries: entries("release", "web"),
			formation: "release=1,web=2", want: []int{1, 2},
		},
		{name: "release runs once without a flag", entries: entries("web", "release"), want: []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := tt.entries
			if es == nil {
				es = app
			}
			var f *procfile.Formation
			if tt.formation != "" {
				parsed, err := procfile.ParseFormation(tt.formation)
				require.NoError(t, err)
				f = &parsed
			}
			got, err := procfile.Resolve(es, f, tt.types)
			require.NoError(t, err, "Resolve(-m %q, types %q)", tt.formation, tt.types)
			assert.Equal(t, tt.want, got, "Resolve(%v, -m %q, types %q)", procfile.Names(es), tt.formation, tt.types)
		})
	}
}

func TestResolveRejects(t *testing.T) {
	app := entries("web", "worker")
	tests := []struct {
		name      string
		entries   []procfile.Entry
		formation string
		types     []string
		want      string
	}{
		{
			name: "unknown name in the formation", formation: "wrker=1",
			want: `formation: unknown process type "wrker" (the Procfile has web, worker)`,
		},
		{
			name: "unknown name in the formation even at count 0", formation: "all=1,clock=0",
			want: `formation: unknown process type "clock" (the Procfile has web, worker)`,
		},
		{
			name: "unknown type argument", types: []string{"web", "wrker"},
			want: `unknown process type "wrker" (the Procfile has web, worker)`,
		},
		{
			name: "release with a count above 1", entries: entries("release", "web"), formation: "release=2",
			want: `formation: "release" runs once before the other types; its count can be 0 or 1, not 2`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := tt.entries
			if es == nil {
				es = app
			}
			var f *procfile.Formation
			if tt.formation != "" {
				parsed, err := procfile.ParseFormation(tt.formation)
				require.NoError(t, err)
				f = &parsed
			}
			got, err := procfile.Resolve(es, f, tt.types)
			require.Error(t, err, "Resolve(-m %q, types %q) = %v, want an error", tt.formation, tt.types, got)
			assert.Equal(t, tt.want, err.Error())
			if tt.formation != "" {
				assert.ErrorIs(t, err, procfile.ErrFormation)
			}
			assert.Nil(t, got)
		})
	}
}

func TestPorts(t *testing.T) {
	tests := []struct {
		ports          procfile.Ports
		typeIndex, num int
		want           int
	}{
		{procfile.Ports{Base: 5000, Step: 100}, 0, 1, 5000},
		{procfile.Ports{Base: 5000, Step: 100}, 0, 2, 5001},
		{procfile.Ports{Base: 5000, Step: 100}, 1, 1, 5100},
		{procfile.Ports{Base: 5000, Step: 100}, 2, 3, 5202},
		{procfile.Ports{Base: 3000, Step: 10}, 1, 1, 3010},
		{procfile.Ports{Base: 8000, Step: 0}, 3, 1, 8000},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.ports.Port(tt.typeIndex, tt.num), "%+v.Port(%d, %d)", tt.ports, tt.typeIndex, tt.num)
	}
}

func TestPlan(t *testing.T) {
	app := entries("web", "worker", "clock")
	defaults := procfile.Ports{Base: procfile.DefaultPort, Step: procfile.DefaultPortStep}
	type inst struct {
		name string
		port int
	}
	tests := []struct {
		name   string
		counts []int
		ports  procfile.Ports
		want   []inst
	}{
		{
			name: "foreman's example", counts: []int{2, 1, 0}, ports: defaults,
			want: []inst{{"web.1", 5000}, {"web.2", 5001}, {"worker.1", 5100}},
		},
		{
			name: "a type not started still takes its port block", counts: []int{0, 0, 1}, ports: defaults,
			want: []inst{{"clock.1", 5200}},
		},
		{
			name: "another base and step", counts: []int{1, 2, 1}, ports: procfile.Ports{Base: 3000, Step: 10},
			want: []inst{{"web.1", 3000}, {"worker.1", 3010}, {"worker.2", 3011}, {"clock.1", 3020}},
		},
		{name: "nothing to run", counts: []int{0, 0, 0}, ports: defaults, want: nil},
		{
			name: "the highest port is fine", counts: []int{1, 0, 0}, ports: procfile.Ports{Base: 65535, Step: 100},
			want: []inst{{"web.1", 65535}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := procfile.App{Entries: app, Ports: tt.ports}.Plan(tt.counts)
			require.NoError(t, err)
			var gotInst []inst
			for _, in := range got {
				gotInst = append(gotInst, inst{in.Name, in.Port})
				e := app[in.TypeIndex]
				assert.Equal(t, e.Name, in.Type, "%s: Type", in.Name)
				assert.Equal(t, e.Command, in.Command, "%s: Command", in.Name)
				assert.True(t, strings.HasPrefix(in.Name, in.Type+"."), "%s: name starts with its type", in.Name)
			}
			assert.Equal(t, tt.want, gotInst)
		})
	}
}

func TestPlanInstanceFields(t *testing.T) {
	app := procfile.App{Entries: entries("web", "worker"), Ports: procfile.Ports{Base: 5000, Step: 100}, Environ: []string{"A=1", "PORT=80", "B=2"}}
	got, err := app.Plan([]int{0, 2})
	require.NoError(t, err)
	want := []procfile.Instance{
		{Type: "worker", TypeIndex: 1, Num: 1, Name: "worker.1", Command: "run-worker", Argv: []string{"run-worker"}, Port: 5100, Env: []string{"A=1", "B=2", "PORT=5100", "PS=worker.1"}},
		{Type: "worker", TypeIndex: 1, Num: 2, Name: "worker.2", Command: "run-worker", Argv: []string{"run-worker"}, Port: 5101, Env: []string{"A=1", "B=2", "PORT=5101", "PS=worker.2"}},
	}
	assert.Equal(t, want, got)
	assert.Equal(t, []string{"A=1", "PORT=80", "B=2"}, app.Environ, "planning leaves the app's environment as it was")
}

// TestOneOffEnv: a one-off command (proctor run) gets the base port, as
// foreman's run does, and no PS: it is no instance of a type.
func TestOneOffEnv(t *testing.T) {
	app := procfile.App{Ports: procfile.Ports{Base: 3000, Step: 100}, Environ: []string{"PORT=80", "A=1", "PS=web.1"}}
	assert.Equal(t, []string{"A=1", "PS=web.1", "PORT=3000"}, app.OneOffEnv(""))
	app.TypeEnviron = map[string][]string{"web": {"A=2"}}
	assert.Equal(t, []string{"A=2", "PORT=3000"}, app.OneOffEnv("web"), "a type's own env files")
	assert.Equal(t, []string{"A=1", "PS=web.1", "PORT=3000"}, app.OneOffEnv("worker"))
}

// TestTypeEnviron: a type with env files of its own starts from its
// environment; the others from the app's.
func TestTypeEnviron(t *testing.T) {
	app := procfile.App{Entries: entries("web", "worker"), Ports: procfile.Ports{Base: 5000, Step: 100}, Environ: []string{"A=1"}, TypeEnviron: map[string][]string{"web": {"A=1", "B=web"}}}
	got, err := app.Plan([]int{1, 1})
	require.NoError(t, err)
	assert.Equal(t, []string{"A=1", "B=web", "PORT=5000", "PS=web.1"}, got[0].Env)
	assert.Equal(t, []string{"A=1", "PORT=5100", "PS=worker.1"}, got[1].Env)
}

func TestPlanRejects(t *testing.T) {
	app := entries("web", "worker")
	tests := []struct {
		name   string
		counts []int
		ports  procfile.Ports
		want   string
	}{
		{
			name: "port above 65535", counts: []int{0, 1}, ports: procfile.Ports{Base: 65500, Step: 100},
			want: "worker.1 would get port 65600, outside 1-65535",
		},
		{
			name: "later instance crosses 65535", counts: []int{2, 0}, ports: procfile.Ports{Base: 65535, Step: 100},
			want: "web.2 would get port 65536, outside 1-65535",
		},
		{
			name: "port 0", counts: []int{1, 0}, ports: procfile.Ports{Base: 0, Step: 100},
			want: "web.1 would get port 0, outside 1-65535",
		},
		{
			name: "counts do not match entries", counts: []int{1}, ports: procfile.Ports{Base: 5000, Step: 100},
			want: "plan: 1 counts for 2 entries",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := procfile.App{Entries: app, Ports: tt.ports}.Plan(tt.counts)
			require.Error(t, err, "Plan = %v, want an error", got)
			assert.Equal(t, tt.want, err.Error())
			assert.Nil(t, got)
		})
	}
}

func TestAppInstance(t *testing.T) {
	app := procfile.App{Entries: entries("web", "worker"), Ports: procfile.Ports{Base: 5000, Step: 100}}
	in, err := app.Instance(1, 3)
	require.NoError(t, err)
	assert.Equal(t, procfile.Instance{Type: "worker", TypeIndex: 1, Num: 3, Name: "worker.3", Command: "run-worker", Argv: []string{"run-worker"}, Port: 5102, Env: []string{"PORT=5102", "PS=worker.3"}}, in)
	_, err = procfile.App{Entries: app.Entries, Ports: procfile.Ports{Base: 65535, Step: 100}}.Instance(0, 2)
	var pre *procfile.PortRangeError
	require.ErrorAs(t, err, &pre, "a port out of range is a *PortRangeError")
	assert.Equal(t, procfile.PortRangeError{Name: "web.2", Port: 65536}, *pre)
}
