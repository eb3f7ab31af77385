//go:build !linux

package auth

// prepareHashMemory does nothing here: the runtime's allocation serves.
func prepareHashMemory(n int) {}
