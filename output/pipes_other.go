//go:build !linux

package output

import "errors"

// pipeLoop is Linux's: elsewhere every pipe of CopyPipe has a goroutine.
type pipeLoop struct{}

func (m *Mux) pipeLoop() *pipeLoop { return nil }

func (m *Mux) pipeLoopIfStarted() *pipeLoop { return nil }

func (*pipeLoop) add(string, Stream, int, func(error)) error { return errors.ErrUnsupported }

func (*pipeLoop) abort() {}

func (*pipeLoop) stop() {}
