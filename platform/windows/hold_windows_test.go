package windows

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// The test binary doubles as a second process that holds a mailbox: with
// IMAPD_TEST_HOLD=<path> it takes the hold, says "held" or "elsewhere" on
// stdout and keeps it until its stdin is closed, then exits without calling
// release (Windows closes the handle, as after a crash).
func TestMain(m *testing.M) {
	if path := os.Getenv("IMAPD_TEST_HOLD"); path != "" {
		_, elsewhere, err := HoldMailbox(path)
		switch {
		case err != nil:
			os.Stdout.WriteString("error " + err.Error() + "\n")
		case elsewhere:
			os.Stdout.WriteString("elsewhere\n")
		default:
			os.Stdout.WriteString("held\n")
		}
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func mailboxFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(tempDir(t), "alice")
	if err := os.WriteFile(p, []byte("From a@b Mon Jan  1 00:00:00 2026\n\nhi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLockFilePath(t *testing.T) {
	got, err := LockFilePath(`C:\dmail\spool\alice.mbx/Work`)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(LockDir(), "C!!dmail!spool!alice.mbx!Work"); got != want {
		t.Errorf("LockFilePath = %q, want %q", got, want)
	}
	long, err := LockFilePath(`C:\` + strings.Repeat(`x\`, 150) + "inbox")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(filepath.Base(long)); n > 255 || !strings.HasSuffix(long, "!x!inbox") {
		t.Errorf("long lock name %q (%d characters)", filepath.Base(long), n)
	}
}

func TestHoldMailboxTwoHandles(t *testing.T) {
	p := mailboxFile(t)
	if held, err := MailboxHeld(p); err != nil || held {
		t.Fatalf("MailboxHeld before any hold: %v, %v", held, err)
	}
	release1, elsewhere, err := HoldMailbox(p)
	if err != nil || elsewhere {
		t.Fatalf("first hold: elsewhere=%v err=%v", elsewhere, err)
	}
	if held, err := MailboxHeld(p); err != nil || !held {
		t.Fatalf("MailboxHeld while held: %v, %v", held, err)
	}
	// A second handle on the same lock file, by another name of the same
	// path (other case, forward slashes): shut out by the sharing mode.
	other := strings.ReplaceAll(strings.ToUpper(p), `\`, "/")
	release2, elsewhere, err := HoldMailbox(other)
	if err != nil || !elsewhere {
		t.Fatalf("second hold: elsewhere=%v err=%v, want elsewhere", elsewhere, err)
	}
	release2() // the no-op release of a session that got it read-only

	// The lock file is readable and names the holder.
	lock, _ := LockFilePath(p)
	data, err := os.ReadFile(lock)
	if err != nil {
		t.Fatalf("read lock file while held: %v", err)
	}
	if string(data) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, want our pid %d", data, os.Getpid())
	}

	release1()
	release1() // twice is fine
	if held, err := MailboxHeld(p); err != nil || held {
		t.Fatalf("MailboxHeld after release: %v, %v", held, err)
	}
	release3, elsewhere, err := HoldMailbox(p)
	if err != nil || elsewhere {
		t.Fatalf("hold after release: elsewhere=%v err=%v", elsewhere, err)
	}
	release3()
}

func TestHoldMailboxOtherProcess(t *testing.T) {
	p := mailboxFile(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "IMAPD_TEST_HOLD="+p)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "held\n" {
		t.Fatalf("child: %q, %v", line, err)
	}

	_, elsewhere, err := HoldMailbox(p)
	if err != nil || !elsewhere {
		t.Fatalf("hold while another process holds: elsewhere=%v err=%v", elsewhere, err)
	}
	if held, err := MailboxHeld(p); err != nil || !held {
		t.Fatalf("MailboxHeld while another process holds: %v, %v", held, err)
	}

	// The child exits without releasing: its handle dies with it.
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	release, elsewhere, err := HoldMailbox(p)
	if err != nil || elsewhere {
		t.Fatalf("hold after the other process died: elsewhere=%v err=%v", elsewhere, err)
	}
	release()
}

func TestLockDropFile(t *testing.T) {
	p := mailboxFile(t)
	f, err := LockDropFile(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	// What DSMTP meets when it comes to append: a sharing violation.
	_, err = os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if !errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
		t.Errorf("append open while locked: %v, want a sharing violation", err)
	}
	if _, err := LockDropFile(p, 0); !errors.Is(err, ErrDropFileBusy) {
		t.Errorf("second LockDropFile: %v, want ErrDropFileBusy", err)
	}
	if err := os.Rename(p, p+".moved"); err == nil {
		t.Errorf("rename of a locked drop file succeeded")
	}
	if err := os.Remove(p); err == nil {
		t.Errorf("delete of a locked drop file succeeded")
	}
	// Readers are let in.
	if data, err := os.ReadFile(p); err != nil || !strings.HasPrefix(string(data), "From ") {
		t.Errorf("read while locked: %q, %v", data, err)
	}
	// The rewrite goes through the locked handle.
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("rewritten\n"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatalf("append open after unlock: %v", err)
	}
	w.WriteString("appended\n")
	w.Close()
	if data, _ := os.ReadFile(p); string(data) != "rewritten\nappended\n" {
		t.Errorf("drop file = %q", data)
	}
}

func TestLockDropFileWhileAnotherWrites(t *testing.T) {
	p := mailboxFile(t)
	w, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0) // DSMTP appending
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockDropFile(p, 0); !errors.Is(err, ErrDropFileBusy) {
		t.Errorf("LockDropFile while another handle writes: %v, want ErrDropFileBusy", err)
	}
	// With a wait it gets the file once the writer is done, whether the
	// writer closed before the first try or during the retries.
	done := make(chan error, 1)
	go func() {
		f, err := LockDropFile(p, time.Minute)
		if err == nil {
			f.Close()
		}
		done <- err
	}()
	w.Close()
	if err := <-done; err != nil {
		t.Errorf("LockDropFile with a wait: %v", err)
	}
	if _, err := LockDropFile(filepath.Join(tempDir(t), "nobody"), 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing drop file: %v, want ErrNotExist", err)
	}
}
