// Package stress is proctor's stress and fault suite: end-to-end tests that
// run the proctor binary under load, faults and hostile input, and check
// that nothing is lost, nothing leaks and nothing outlives it. The package
// holds no code of its own besides this documentation; the tests are in
// its _test.go files and the child they run in testdata/stresschild.
//
// # Running it
//
// Every case runs in a short version by default, a few seconds each, so
// that `go test ./...` (and CI's `go test -race ./...`) runs all of them:
//
//	go test ./stress/
//	go test -race ./stress/
//
// The full version, with the sizes bench/RESULTS.md reports (500 chatty
// instances for 30 s, a 20 s restart storm of 50 instances, 50 control
// clients for 20 s, a 1 GiB line, repeated kill -9), is selected by the
// build tag stress or by PROCTOR_STRESS=full; it takes about ten minutes.
// Run it without -race (the race detector multiplies proctor's memory and
// CPU, and the figures would not be proctor's) and one case at a time on a
// small machine, e.g.:
//
//	go test -tags stress -run TestChatty -v -timeout 30m ./stress/
//	PROCTOR_STRESS=full go test -v -timeout 60m -p 1 ./stress/
//
// Each case logs its figures (t.Log, seen with -v): lines, rates, proctor's
// peak RSS (VmHWM) and CPU time, latencies, goroutines and file
// descriptors before and after. PROCTOR_STRESS_SEED fixes the random
// moments of the kill -9 case, whose seed every run logs.
//
// Under -race the suite builds a race-instrumented proctor, so that a data
// race in proctor under load fails the suite; memory bounds are then not
// asserted (only logged), since the race detector's own memory is not
// proctor's.
//
// Every process a case starts carries a token in its environment
// (PROCTOR_STRESS_TOKEN); the cases check in /proc that none is left once
// proctor exits, and their cleanup kills whatever is, pass or fail.
package stress
