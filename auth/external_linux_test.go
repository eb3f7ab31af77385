//go:build linux

package auth

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A script's helper process that holds the output pipe is killed with it
// (process group), so nothing is left behind after a timeout.
func TestExternalTimeoutKillsHelpers(t *testing.T) {
	cmd, _ := helper(t, "spawn")
	fifo := filepath.Join(tempDir(t), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AUTH_TEST_FIFO", fifo)
	// Open the reading end first (non-blocking) so the helper's open succeeds.
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	e := newExt(t, cmd, 30*time.Second)
	if _, err := e.Lookup("bob"); err != nil { // starts the helper's helper and waits for it
		t.Fatal(err)
	}
	setTimeout(e, shortTimeout)
	if _, err := e.Check("bob", "pw", "127.0.0.1"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	noAuthGoroutines(t)
	// The FIFO reaches EOF only when the helper's helper has died.
	r.SetReadDeadline(time.Now().Add(10 * time.Second)) // guard against a hang, not a timed assertion
	br := bufio.NewReader(r)
	line, err := br.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("read %q, %v", line, err)
	}
	if rest, err := br.ReadString('\n'); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("helper's helper still alive: read %q, %v", rest, err)
	}
}
