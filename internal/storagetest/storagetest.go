// Package storagetest runs a test suite once per storage format, so that
// the session and end-to-end suites prove every behaviour on mbox drop
// files and on maildir without a copy of any test: the suite's TestMain
// calls Run, and the test harness reads the format it is given.
package storagetest

import (
	"fmt"
	"os"
	"testing"
)

// The storage formats, as IMAPD_TEST_FORMAT names them.
const (
	Mbox    = "mbox"
	Maildir = "maildir"
)

// Env is the environment variable that picks one format (for a quick run,
// and for the helper processes a suite starts, which inherit it).
const Env = "IMAPD_TEST_FORMAT"

// Run runs the suite m once per format (mbox, then maildir), or once in
// the format Env names, calling set before each run, and returns the exit
// code for os.Exit: non-zero when any run failed.
func Run(m *testing.M, set func(format string)) int {
	list := []string{Mbox, Maildir}
	if f := os.Getenv(Env); f != "" {
		list = []string{f}
	}
	code := 0
	for _, f := range list {
		if f != Mbox && f != Maildir {
			fmt.Fprintf(os.Stderr, "%s=%s: want %s or %s\n", Env, f, Mbox, Maildir)
			return 2
		}
		set(f)
		// Helper processes the tests start run in the same format.
		os.Setenv(Env, f)
		if len(list) > 1 {
			fmt.Fprintf(os.Stderr, "=== storage format %s\n", f)
		}
		if c := m.Run(); c != 0 {
			fmt.Fprintf(os.Stderr, "--- FAIL: storage format %s\n", f)
			code = c
		}
	}
	return code
}
