package procfile_test

import (
	"fmt"
	"strings"

	"github.com/proctor-run/proctor/procfile"
)

func ExampleParse() {
	const text = `# the demo app
web: bundle exec puma -p $PORT
worker: bundle exec sidekiq \
  -q default
`
	entries, err := procfile.Parse(strings.NewReader(text))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range entries {
		fmt.Printf("%d %s: %s\n", e.Line, e.Name, e.Command)
	}
	// Output:
	// 2 web: bundle exec puma -p $PORT
	// 3 worker: bundle exec sidekiq   -q default
}

func ExampleParse_errors() {
	_, err := procfile.Parse(strings.NewReader("web: a\nworker b\nweb: c\n"))
	fmt.Println(err)
	// Output:
	// line 2: expected NAME: COMMAND
	// line 3: duplicate process name "web" (first defined on line 1)
}

func ExampleApp_Plan() {
	entries := []procfile.Entry{{Name: "web", Command: "puma"}, {Name: "worker", Command: "sidekiq"}}
	f, _ := procfile.ParseFormation("web=2,worker=1")
	counts, _ := procfile.Resolve(entries, &f, nil)
	app := procfile.App{Entries: entries, Ports: procfile.Ports{Base: procfile.DefaultPort, Step: procfile.DefaultPortStep}, Environ: []string{"RAILS_ENV=development"}}
	instances, _ := app.Plan(counts)
	for _, in := range instances {
		fmt.Println(in.Name, in.Port, in.Env)
	}
	// Output:
	// web.1 5000 [RAILS_ENV=development PORT=5000 PS=web.1]
	// web.2 5001 [RAILS_ENV=development PORT=5001 PS=web.2]
	// worker.1 5100 [RAILS_ENV=development PORT=5100 PS=worker.1]
}
