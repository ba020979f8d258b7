//go:build !linux || !amd64

package runner

// compiledGuardianPath is empty: the compiled guardian exists for Linux on
// x86-64 only, and the script stands in everywhere else.
func compiledGuardianPath() string { return "" }
