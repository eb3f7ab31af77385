package platform

import (
	"os"
	"os/exec"
	"testing"
)

// TestProcessGone: a running process is not gone, one that exited is (the
// rule that breaks the dot-lock of a crashed holder at once).
func TestProcessGone(t *testing.T) {
	if ProcessGone(os.Getpid()) {
		t.Error("this process is gone")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if !ProcessGone(cmd.Process.Pid) {
		t.Errorf("process %d exited but is not gone", cmd.Process.Pid)
	}
	if ProcessGone(0) || ProcessGone(-1) {
		t.Error("no PID is gone")
	}
}
