package e2e

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// deliver appends one message to a drop file the way the DMail SMTP server
// does: <file>.lock dot-lock plus flock, From line, message, blank line.
// It runs the separate appender program (testdata/appender.py) so the
// locking is a real other process's.
func deliver(t *testing.T, drop, from, subject string) {
	t.Helper()
	out, err := exec.Command("python3", filepath.Join("testdata", "appender.py"), drop, "1", from, subject).CombinedOutput()
	if err != nil {
		t.Fatalf("deliver to %s: %v\n%s", drop, err, out)
	}
}
