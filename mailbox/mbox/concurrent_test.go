package mbox

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"imapd/mailbox"
	"imapd/platform/filelock"
)

// TestMain doubles as the helper process of the concurrent delivery test:
// with MBOX_TEST_DELIVER=<path>:<n> it behaves like an SMTP server and
// delivers n messages one at a time.
func TestMain(m *testing.M) {
	if spec := os.Getenv("MBOX_TEST_DELIVER"); spec != "" {
		i := strings.LastIndexByte(spec, ':')
		n, _ := strconv.Atoi(spec[i+1:])
		if err := mtaDeliver(spec[:i], n); err != nil {
			fmt.Fprintln(os.Stderr, "deliver:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if path := os.Getenv("MBOX_TEST_HOLD"); path != "" {
		holdLock(path) // lock_test.go
	}
	if spec := os.Getenv("MBOX_TEST_OPEN"); spec != "" {
		os.Exit(openMany(spec)) // index_test.go
	}
	os.Exit(runWithIndex(m)) // index_test.go
}

// mtaDeliver appends messages as an MTA does: <file>.lock with O_EXCL, then
// flock(LOCK_EX) on the file, then a write at the end.
func mtaDeliver(path string, n int) error {
	for k := 0; k < n; k++ {
		lock := path + ".lock"
		for {
			f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0666)
			if err == nil {
				f.Close()
				break
			}
			if !errors.Is(err, fs.ErrExist) {
				return err
			}
			time.Sleep(time.Millisecond) // polling a dot-lock, as MTAs do
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		if filelock.Advisory { // not on Windows, where imapd does not lock the file
			if err := filelock.Lock(f, filelock.Exclusive); err != nil {
				return err
			}
		}
		_, err = fmt.Fprintf(f, "From mta@example.com Tue Nov 24 10:00:00 2026\nSubject: msg-%d\n\nbody of %d\nFrom me, with love\n\n", k, k)
		filelock.Unlock(f)
		f.Close()
		os.Remove(lock)
		if err != nil {
			return err
		}
	}
	return nil
}

// independentCount splits a mailbox file the simplest way (a "From " line at
// the start or after an empty line) and counts each "Subject: msg-N".
func independentCount(t *testing.T, path string) map[int]int {
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	counts := map[int]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	prevBlank, inHeader := true, false
	for sc.Scan() {
		l := sc.Text()
		switch {
		case prevBlank && strings.HasPrefix(l, "From "):
			inHeader = true
		case inHeader && l == "":
			inHeader = false
		case inHeader && strings.HasPrefix(l, "Subject: msg-"):
			k, err := strconv.Atoi(strings.TrimPrefix(l, "Subject: msg-"))
			must(t, err)
			counts[k]++
		}
		prevBlank = l == ""
	}
	must(t, sc.Err())
	return counts
}

// While another process delivers mail, the session keeps flagging odd
// messages \Deleted and expunging: every delivered message survives
// exactly once except the expunged ones, which are gone.
func TestConcurrentDelivery(t *testing.T) {
	const n = 400
	path := filepath.Join(t.TempDir(), "inbox")
	writeFile(t, path, spool61)
	opt := testOpts(at(100))
	m, err := Open(path, opt)
	must(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MBOX_TEST_DELIVER="+path+":"+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	seen := map[int]uint32{} // message number -> UID
	pass := func() {
		_, err := m.Sync()
		must(t, err)
		for i := 0; i < m.Len(); i++ {
			msg := m.Message(i)
			s := readMsg(t, m, i)
			j := strings.Index(s, "Subject: msg-")
			if j < 0 {
				continue
			}
			k, err := strconv.Atoi(strings.TrimSpace(s[j+13 : j+13+strings.Index(s[j+13:], "\r\n")]))
			must(t, err)
			if uid, ok := seen[k]; ok && uid != msg.UID {
				t.Fatalf("msg-%d seen with UID %d and %d", k, uid, msg.UID)
			}
			seen[k] = msg.UID
			if k%2 == 1 && msg.Flags&mailbox.Deleted == 0 {
				must(t, m.SetFlags(i, msg.Flags|mailbox.Deleted|mailbox.Seen, []string{"gone"}))
			} else if k%3 == 0 && msg.Flags&mailbox.Flagged == 0 {
				must(t, m.SetFlags(i, msg.Flags|mailbox.Flagged, nil))
			}
		}
	}
	for round := 0; ; round++ {
		finished := false
		select {
		case err := <-done:
			must(t, err)
			finished = true
		default:
		}
		pass()
		if round%2 == 0 || finished {
			_, err := m.Expunge(nil)
			must(t, err)
		} else {
			must(t, m.Checkpoint())
		}
		if finished {
			t.Logf("%d rounds of sync/flag/expunge while the MTA delivered", round)
			break
		}
	}
	pass()
	_, err = m.Expunge(nil)
	must(t, err)
	must(t, m.Close())
	if len(seen) != n {
		t.Fatalf("the session saw %d of %d messages", len(seen), n)
	}
	counts := independentCount(t, path)
	for k := 0; k < n; k++ {
		want := 1 - k%2
		if counts[k] != want {
			t.Errorf("msg-%d is in the file %d times, want %d", k, counts[k], want)
		}
	}
	// And our own parser agrees, with the UIDs the session saw.
	m2, err := Open(path, Options{ReadOnly: true, UseFlock: true})
	must(t, err)
	defer m2.Close()
	if m2.Len() != 3+n/2 {
		t.Fatalf("%d messages, want %d", m2.Len(), 3+n/2)
	}
	for i := 3; i < m2.Len(); i++ {
		s := readMsg(t, m2, i)
		var k int
		fmt.Sscanf(s[strings.Index(s, "Subject: msg-")+13:], "%d", &k)
		msg := m2.Message(i)
		if msg.UID != seen[k] || (k%3 == 0) != (msg.Flags&mailbox.Flagged != 0) || !strings.Contains(s, "\r\nFrom me, with love\r\n") {
			t.Fatalf("msg-%d: %+v (session saw UID %d)", k, msg, seen[k])
		}
	}
}
