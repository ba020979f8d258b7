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

func ExamplePlan() {
	entries := []procfile.Entry{{Name: "web", Command: "puma"}, {Name: "worker", Command: "sidekiq"}}
	f, _ := procfile.ParseFormation("web=2,worker=1")
	counts, _ := procfile.Resolve(entries, &f, nil)
	instances, _ := procfile.Plan(entries, counts, procfile.Ports{Base: procfile.DefaultPort, Step: procfile.DefaultPortStep})
	for _, in := range instances {
		fmt.Println(in.Name, in.Port)
	}
	// Output:
	// web.1 5000
	// web.2 5001
	// worker.1 5100
}
