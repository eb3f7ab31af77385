//go:build !windows

package maildir

import "os"

// openShared opens a file to read it; on unix renames and removals of an
// open file always work.
func openShared(path string) (*os.File, error) { return os.Open(path) }

// busy: unix has no sharing violations.
func busy(error) bool { return false }

// retryBusy runs op once.
func retryBusy(op func() error) error { return op() }
