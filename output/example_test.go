package output_test

import (
	"os"
	"strings"
	"time"

	"github.com/proctor-run/proctor/output"
)

func ExampleNew() {
	m := output.New(os.Stdout, output.Options{NoTimestamp: true})
	m.Register("web.1", 0)
	m.Register("worker.1", 1)
	m.Copy("web.1", output.Stdout, strings.NewReader("listening on :5000\n"))
	m.Copy("worker.1", output.Stderr, strings.NewReader("job 1 done\r\njob 2 start"))
	m.System("sending SIGTERM to all processes")
	if err := m.Close(); err != nil {
		panic(err)
	}
	// Output:
	// web.1    | listening on :5000
	// worker.1 | job 1 done
	// worker.1 | job 2 start
	// system   | sending SIGTERM to all processes
}

func ExampleNew_json() {
	m := output.New(os.Stdout, output.Options{
		Format: output.JSON,
		Now:    func() time.Time { return time.Date(2024, 5, 1, 14, 3, 7, 250000000, time.UTC) },
	})
	m.Copy("web.1", output.Stderr, strings.NewReader("say \"hi\"\tnow\n"))
	m.System("web.1 exited with code 1")
	m.Close()
	// Output:
	// {"time":"2024-05-01T14:03:07.25Z","process":"web.1","stream":"stderr","line":"say \"hi\"\tnow"}
	// {"time":"2024-05-01T14:03:07.25Z","process":"system","stream":"system","line":"web.1 exited with code 1"}
}

func ExampleMux_Copy() {
	m := output.New(os.Stdout, output.Options{NoTimestamp: true})
	// The name column widens to the longest registered name.
	m.Register("web.1", 0)
	m.Register("background.1", 1)
	// Copy returns at EOF; the runner runs one Copy per child stream, each
	// in its own goroutine.
	m.Copy("web.1", output.Stdout, strings.NewReader("GET / 200\r\nGET /about 404\nlast line without newline"))
	m.Close()
	// Output:
	// web.1        | GET / 200
	// web.1        | GET /about 404
	// web.1        | last line without newline
}

func ExampleMux_System() {
	m := output.New(os.Stdout, output.Options{NoPrefix: true})
	m.Copy("web.1", output.Stdout, strings.NewReader("bare child line\n"))
	m.System("web.1 exited with code 0")
	m.Close()
	// Output:
	// bare child line
	// web.1 exited with code 0
}
