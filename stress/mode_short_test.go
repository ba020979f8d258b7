//go:build !stress

package stress

// fullByTag selects the full version of every case: go test -tags stress.
const fullByTag = false
