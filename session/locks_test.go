package session_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"imapd/mailbox/mbox"
)

// TestHelperHoldLock is not a test: run as a child process (by
// TestSelectAfterLockHolderKilled) it holds a mailbox's locks as imapd
// does while it writes, until it is killed.
func TestHelperHoldLock(t *testing.T) {
	path := os.Getenv("SESSION_TEST_HOLD")
	if path == "" {
		t.Skip("helper process only")
	}
	if _, err := mbox.HoldLock(path, mbox.Options{UseFlock: true}); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	time.Sleep(time.Hour) // until killed (select {} would be a deadlock the runtime ends)
}

// TestSelectAfterLockHolderKilled: a process killed (SIGKILL) while it
// held INBOX locked, as in the middle of a write, does not lock the user
// out: the next SELECT breaks its dot-lock at once and gets the mailbox
// read-write. (Before: the SELECT waited 30 seconds, then NO [INUSE], for
// up to 5 minutes.)
func TestSelectAfterLockHolderKilled(t *testing.T) {
	onlyMbox(t) // the drop file's dot-lock (maildir's list lock: mailbox/maildir)
	e := newEnv(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), "SESSION_TEST_HOLD="+e.inbox(), "IMAPD_TEST_CRYPTAUTH="+cryptauthPath)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("holder: %q %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Lstat(e.inbox() + ".lock"); err != nil {
		t.Fatalf("the killed holder left no dot-lock: %v", err)
	}
	c := e.login()
	r := c.ok("SELECT INBOX")
	r.has(t, "* 3 EXISTS")
	r.taggedIs(t, "OK [READ-WRITE] SELECT completed")
	c.ok(`STORE 1 +FLAGS.SILENT (\Deleted)`)
	c.ok("EXPUNGE").exactly(t, "* 1 EXPUNGE")
	if _, err := os.Lstat(e.inbox() + ".lock"); err == nil {
		t.Error("dot-lock left behind")
	}
}
