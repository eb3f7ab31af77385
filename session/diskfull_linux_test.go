package session_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// newFullEnv is newEnv on a small tmpfs of its own (root only; skipped
// otherwise) so that the test can fill the file system. fill() takes all
// the space left; free() gives it back.
func newFullEnv(t *testing.T) (*env, *diskFiller) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	e := newEnvIn(t, dir)
	return e, &diskFiller{t: t, path: filepath.Join(dir, "filler")}
}

type diskFiller struct {
	t    *testing.T
	path string
}

// fill writes the filler file until the file system is full.
func (d *diskFiller) fill() {
	d.t.Helper()
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	buf := bytes.Repeat([]byte("x"), 4096)
	for _, chunk := range [][]byte{buf, buf[:1]} {
		for {
			if _, err := f.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					d.t.Fatalf("fill: %v", err)
				}
				break
			}
		}
	}
}

// leave frees n bytes of the filler (the file system must be full).
func (d *diskFiller) leave(n int64) {
	d.t.Helper()
	st, err := os.Stat(d.path)
	if err != nil {
		d.t.Fatal(err)
	}
	if err := os.Truncate(d.path, max(0, st.Size()-n)); err != nil {
		d.t.Fatal(err)
	}
}

func (d *diskFiller) free() {
	d.t.Helper()
	if err := os.Remove(d.path); err != nil {
		d.t.Fatal(err)
	}
}

// TestDiskFull: on a full file system APPEND and COPY answer NO
// [OVERQUOTA] (never SERVERBUG) and leave every file as it was; an EXPUNGE
// that needs room for its journal does not start and leaves the file as
// it was; once there is room again all of them work.
func TestDiskFull(t *testing.T) {
	onlyMbox(t) // compares the files' bytes; maildir: TestDiskFullMaildir
	e, disk := newFullEnv(t)
	c := e.login()
	c.ok("CREATE Archive")
	c.ok("APPEND Archive {%d+}\r\n%s", len(appendMsg), appendMsg)
	c.ok("SELECT INBOX")
	c.ok(`STORE 2 +FLAGS (\Deleted)`)
	c.ok("NOOP") // flags reach the file at the next check point
	c.ok("CHECK")

	inbox, archive := e.inbox(), e.folder("Archive")
	before := map[string]string{inbox: e.read(inbox), archive: e.read(archive)}
	same := func(step string) {
		t.Helper()
		for p, want := range before {
			if got := e.read(p); got != want {
				t.Errorf("%s: %s changed on a full disk:\n%s\nwant\n%s", step, filepath.Base(p), got, want)
			}
		}
		for _, p := range []string{inbox, archive} {
			if m, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".imapd-journal*")); len(m) > 0 {
				t.Errorf("%s: journal left behind: %v", step, m)
			}
		}
	}
	refused := func(r *result, what string) {
		t.Helper()
		r.taggedHas(t, "NO [OVERQUOTA]")
	}

	disk.fill()
	big := strings.Repeat("A line of a message that does not fit on the disk.\r\n", 200)
	msg := "Subject: big\r\n\r\n" + big
	refused(c.cmd("APPEND INBOX {%d+}\r\n%s", len(msg), msg), "APPEND INBOX")
	same("APPEND INBOX")
	refused(c.cmd("APPEND Archive {%d+}\r\n%s", len(msg), msg), "APPEND Archive")
	same("APPEND Archive")
	refused(c.cmd("COPY 1:3 Archive"), "COPY")
	same("COPY")
	refused(c.cmd("MOVE 1 Archive"), "MOVE")
	same("MOVE")
	r := c.cmd("EXPUNGE")
	r.lacks(t, "* 2 EXPUNGE")
	refused(r, "EXPUNGE")
	same("EXPUNGE")
	c.ok("NOOP")

	disk.free()
	c.ok("APPEND Archive {%d+}\r\n%s", len(msg), msg)
	c.ok("COPY 1 Archive")
	c.ok("EXPUNGE").has(t, "* 2 EXPUNGE")
	c.logout()
	e.waitClosed(1)
	if n := len(splitMbox(e.read(archive))); n != 4 { // pseudo-message, appended twice, one copy
		t.Errorf("Archive holds %d parts after the disk has room again, want 4", n)
	}
}

// TestDiskAlmostFull: with a little room left (less than the change
// needs), APPEND and COPY still answer NO [OVERQUOTA] and leave the files
// as they were (a partial append is cut back); a flag change that makes
// the file grow either fails the same way or is written whole.
func TestDiskAlmostFull(t *testing.T) {
	onlyMbox(t) // compares the files' bytes; maildir: TestDiskFullMaildir
	for _, room := range []int64{1, 3000, 9000, 20000} {
		t.Run(fmt.Sprint(room), func(t *testing.T) {
			e, disk := newFullEnv(t)
			c := e.login()
			c.ok("CREATE Archive")
			c.ok("SELECT INBOX")
			inbox, archive := e.inbox(), e.folder("Archive")
			before := map[string]string{inbox: e.read(inbox), archive: e.read(archive)}
			same := func(step string) {
				t.Helper()
				for p, want := range before {
					if got := e.read(p); got != want {
						t.Errorf("%s: %s changed on a full disk:\n%s\nwant\n%s", step, filepath.Base(p), got, want)
					}
				}
			}
			disk.fill()
			disk.leave(room)
			msg := "Subject: big\r\n\r\n" + strings.Repeat("A line of a message that does not fit on the disk.\r\n", 1000)
			c.cmd("APPEND INBOX {%d+}\r\n%s", len(msg), msg).taggedHas(t, "NO [OVERQUOTA]")
			same("APPEND INBOX")
			c.cmd("APPEND Archive {%d+}\r\n%s", len(msg), msg).taggedHas(t, "NO [OVERQUOTA]")
			same("APPEND Archive")

			// Many long keywords: the status headers grow by more than the room.
			var kws []string
			for i := range 20 {
				kws = append(kws, fmt.Sprintf("keyword-that-makes-the-header-grow-%02d", i))
			}
			r := c.cmd("STORE 1:3 +FLAGS (%s)", strings.Join(kws, " "))
			if !strings.HasPrefix(r.Tagged, "OK") && !strings.HasPrefix(r.Tagged, "NO [OVERQUOTA]") && !strings.HasPrefix(r.Tagged, "NO [LIMIT]") {
				t.Errorf("STORE on a full disk: %q", r.Tagged)
			}
			t.Logf("STORE: %s", r.Tagged)
			r = c.cmd("CHECK")
			t.Logf("CHECK: %s", r.Tagged)
			unsaved := e.read(inbox) == before[inbox]
			if said := strings.Contains(strings.Join(r.Untagged, "\n"), "* NO Unable to save flags now"); unsaved != said {
				t.Errorf("flags unsaved on a full disk: %v; the client was told: %v (%q)", unsaved, said, r.Untagged)
			}
			if !strings.HasPrefix(r.Tagged, "OK") && !strings.HasPrefix(r.Tagged, "NO [OVERQUOTA]") {
				t.Errorf("CHECK on a full disk: %q", r.Tagged)
			}
			c.logout()
			e.waitClosed(1)
			text := e.read(inbox)
			t.Logf("INBOX changed: %v", text != before[inbox])
			if text != before[inbox] {
				// Written: then whole, with every keyword on every message.
				if n := len(splitMbox(text)); n != len(splitMbox(before[inbox])) {
					t.Fatalf("INBOX has %d parts after the flag change, before %d:\n%s", n, len(splitMbox(before[inbox])), text)
				}
				for _, k := range kws {
					if strings.Count(text, k) < 3 {
						t.Errorf("INBOX changed but keyword %s is not on every message:\n%s", k, text)
						break
					}
				}
			}
			if m, _ := filepath.Glob(filepath.Join(filepath.Dir(inbox), ".imapd-journal*")); len(m) > 0 {
				t.Errorf("journal left behind: %v", m)
			}
		})
	}
}

// TestDiskFullMaildir: on a full file system APPEND and COPY into a
// maildir answer NO [OVERQUOTA] and leave no file behind (no half message
// in tmp/, none in new/ or cur/); the flags of the selected maildir stay
// as they were; once there is room again all of them work.
func TestDiskFullMaildir(t *testing.T) {
	onlyMaildir(t)
	e, disk := newFullEnv(t)
	c := e.login()
	c.ok("CREATE Archive")
	c.ok("SELECT INBOX")
	archive := e.folder("Archive")
	files := func() int {
		n := 0
		for _, sub := range []string{"tmp", "new", "cur"} {
			entries, _ := os.ReadDir(filepath.Join(archive, sub))
			n += len(entries)
		}
		return n
	}
	msg := "Subject: big\r\n\r\n" + strings.Repeat("x", 8192) + "\r\n"
	disk.fill()
	c.no("APPEND Archive {%d+}\r\n%s", len(msg), msg).taggedHas(t, "NO [OVERQUOTA] ")
	c.no("COPY 1:3 Archive").taggedHas(t, "NO [OVERQUOTA] ")
	if n := files(); n != 0 {
		t.Errorf("Archive holds %d files after refused writes", n)
	}
	disk.free()
	c.ok("STATUS Archive (MESSAGES UIDNEXT)").exactly(t, `* STATUS "Archive" (MESSAGES 0 UIDNEXT 1)`)
	c.ok("APPEND Archive {%d+}\r\n%s", len(msg), msg)
	c.ok("COPY 1:3 Archive")
	c.ok("STATUS Archive (MESSAGES UIDNEXT)").exactly(t, `* STATUS "Archive" (MESSAGES 4 UIDNEXT 5)`)
}
