//go:build !linux

package control

import "errors"

// moveNoReplace is not available here: place links instead.
func moveNoReplace(from, to string) error { return errors.ErrUnsupported }
