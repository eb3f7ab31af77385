//go:build !unix && !windows

package mbox

import "os"

// fileID is "" where the system has no file identity: journals are then
// matched by size only.
func fileID(f *os.File) string { return "" }
