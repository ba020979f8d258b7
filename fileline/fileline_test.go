package fileline_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/proctor-run/proctor/fileline"
)

func TestErrorMessage(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		err  fileline.Error
		want string
	}{
		{"file and line", fileline.Error{File: "Procfile", Line: 3, Err: boom}, "Procfile:3: boom"},
		{"file only", fileline.Error{File: "app/.env", Err: boom}, "app/.env: boom"},
		{"line only", fileline.Error{Line: 7, Err: boom}, "line 7: boom"},
		{"neither", fileline.Error{Err: boom}, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
			assert.ErrorIs(t, &tt.err, boom)
		})
	}
}
