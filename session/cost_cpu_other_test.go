//go:build !unix

package session_test

import "testing"

// cpuClock reports nothing where getrusage is missing.
func cpuClock(*testing.B) (stop func()) { return func() {} }
