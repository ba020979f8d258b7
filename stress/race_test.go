//go:build race

package stress

// raceEnabled reports whether the suite runs under the race detector; it
// then runs a race-instrumented proctor.
const raceEnabled = true
