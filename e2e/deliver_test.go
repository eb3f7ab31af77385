package e2e

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// deliver appends one message to a drop file the way the DMail SMTP server
// does: <file>.lock dot-lock plus flock, From line, message, blank line.
// It runs the separate appender program (testdata/appender.py) so the
// locking is a real other process's.
//
// For maildir, drop is the maildir and the program is
// testdata/maildir_appender.py (tmp/, then new/).
func deliver(t *testing.T, drop, from, subject string) {
	t.Helper()
	out, err := appender(drop, 1, from, subject).CombinedOutput()
	if err != nil {
		t.Fatalf("deliver to %s: %v\n%s", drop, err, out)
	}
}

// appender is the delivery program for the suite's format, delivering n
// messages into drop (drop file or maildir).
func appender(drop string, n int, from, subject string) *exec.Cmd {
	script := "appender.py"
	if format == fmtMaildir {
		script = "maildir_appender.py"
	}
	return exec.Command("python3", filepath.Join("testdata", script), drop, strconv.Itoa(n), from, subject)
}
