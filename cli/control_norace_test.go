//go:build !race

package cli

// ctlRaceEnabled reports whether the tests run under the race detector;
// TestControlConcurrentClients then runs a race-instrumented proctor too.
const ctlRaceEnabled = false
