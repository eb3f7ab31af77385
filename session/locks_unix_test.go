//go:build unix

package session_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// TestPlantedSessionLock: another local user creates and holds UW's
// session lock /tmp/.<dev>.<ino> of alice's INBOX (the inode number is no
// secret). It decides nothing: the session gets INBOX read-write and its
// EXPUNGE removes. (Before: every session got INBOX read-only, and EXPUNGE
// answered OK and removed nothing.)
func TestPlantedSessionLock(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: a process of another uid")
	}
	e := newEnv(t)
	fi, err := os.Stat(e.inbox())
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	name := fmt.Sprintf("/tmp/.%x.%x", uint64(st.Dev), uint64(st.Ino))
	os.Remove(name)
	t.Cleanup(func() { os.Remove(name) })
	const attacker = 4243
	planter := exec.Command("flock", "-x", name, "-c", "echo 1 > "+name+"; echo locked; exec sleep 600")
	planter.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: attacker, Gid: attacker}}
	out, err := planter.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := planter.Start(); err != nil {
		t.Skipf("flock(1): %v", err)
	}
	t.Cleanup(func() { planter.Process.Kill(); planter.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("planter: %q %v", line, err)
	}
	c := e.login()
	r := c.ok("SELECT INBOX")
	r.taggedIs(t, "OK [READ-WRITE] SELECT completed")
	c.ok(`STORE 1 +FLAGS.SILENT (\Deleted)`)
	c.ok("EXPUNGE").exactly(t, "* 1 EXPUNGE")
	c.ok("CLOSE")
	c.logout()
}
