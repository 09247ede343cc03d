//go:build !windows

package packager

import (
	"errors"
	"syscall"
)

// processRunning reports whether a process with that id exists (it may
// belong to another user).
func processRunning(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
