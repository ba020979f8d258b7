//go:build !race

package output

// raceEnabled tells tests that the race detector slows every memory access.
const raceEnabled = false
