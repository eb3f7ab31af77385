package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSharedMbsyncAndIdle: with imapd_shared_mailboxes, two mbsync runs
// (two devices of one user) and a Python imaplib IDLE client use alice's
// INBOX at the same time while mail is delivered. Everyone completes (no
// session is cut off), the IDLE client is told of every change while it
// idles, and every view agrees with the drop file at the end.
func TestSharedMbsyncAndIdle(t *testing.T) {
	mbsync := clientTool(t, "mbsync", "isync")
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	site := newSite(t, "imapd_shared_mailboxes true")
	srv := startListen(t, site)
	host, port := hostPort(srv.Addr)
	drop := inboxOf(site, "alice")

	// The IDLE client.
	idle := exec.Command(py, filepath.Join("testdata", "idle_watch.py"), host, port, "alice", "alice-secret")
	idleIn, err := idle.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	idleOut, err := idle.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var idleErr strings.Builder
	idle.Stderr = &idleErr
	if err := idle.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idle.Process.Kill(); idle.Wait() })
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(idleOut)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// next reads the IDLE client's next line; a client that says nothing
	// for a minute fails the test (no assertion depends on time).
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("IDLE client ended while %s: %s\nlog:\n%s", what, idleErr.String(), logTail(site))
			}
			return l
		case <-time.After(time.Minute):
			t.Fatalf("IDLE client silent while %s\nlog:\n%s", what, logTail(site))
		}
		return ""
	}
	for next("starting") != "IDLING" {
	}

	// Two devices.
	device := func(name string) (rc, dir string) {
		local := filepath.Join(t.TempDir(), name)
		rc = writeMbsyncrc(t, local, fmt.Sprintf("Host %s\nPort %s\nSSLType None\nAuthMechs LOGIN\n", host, port), `Channel inbox
Far :remote:INBOX
Near :local:INBOX
Create Both
Remove None
Expunge Both
SyncState *
`)
		return rc, filepath.Join(local, "mail", "INBOX")
	}
	rc1, dir1 := device("phone")
	rc2, dir2 := device("desktop")
	// both runs at once, mail delivered meanwhile
	both := func(step string, deliveries int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]string, 2)
		for i, rc := range []string{rc1, rc2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := exec.Command(mbsync, "-c", rc, "-a").CombinedOutput()
				if err != nil {
					errs[i] = fmt.Sprintf("mbsync %d (%s): %v\n%s", i+1, step, err, out)
				}
			}()
		}
		for k := range deliveries {
			deliver(t, drop, "frank@example.com", fmt.Sprintf("%s delivery %d", step, k+1))
		}
		wg.Wait()
		for _, e := range errs {
			if e != "" {
				t.Fatalf("%s\nlog:\n%s", e, logTail(site))
			}
		}
	}

	both("first", 2)
	// Local changes: the phone reads and flags the welcome message, the
	// desktop deletes the lunch message.
	for _, f := range maildirFiles(t, dir1) {
		if b, _ := os.ReadFile(f); strings.Contains(string(b), "Subject: Welcome to imapd") {
			setMaildirFlags(t, f, "FS")
		}
	}
	for _, f := range maildirFiles(t, dir2) {
		if b, _ := os.ReadFile(f); strings.Contains(string(b), "Subject: Lunch on Friday?") {
			setMaildirFlags(t, f, "T")
		}
	}
	both("second", 1)
	both("third", 0)
	both("fourth", 0) // settled: each side has what the other did

	// The file (or maildir), read independently.
	var fileUIDs []string
	fileFlags := map[string]string{}
	var subjects []string
	for _, l := range storeSummary(t, drop) {
		f := strings.Split(l, "|")
		if f[0] == "PSEUDO" {
			continue
		}
		subjects = append(subjects, f[0])
		fileUIDs = append(fileUIDs, f[1])
		var flags []string
		if strings.Contains(f[2], "R") {
			flags = append(flags, `\Seen`)
		}
		for letter, flag := range map[string]string{"A": `\Answered`, "F": `\Flagged`, "D": `\Deleted`, "T": `\Draft`} {
			if strings.Contains(f[3], letter) {
				flags = append(flags, flag)
			}
		}
		slices.Sort(flags)
		fileFlags[f[1]] = strings.Join(flags, " ")
	}
	if slices.Contains(subjects, "Lunch on Friday?") || !slices.Contains(subjects, "Welcome to imapd") || len(subjects) != 5 {
		t.Fatalf("drop file holds %q; want the 3 demo messages and 3 deliveries but the deleted lunch message", subjects)
	}
	if got := fileFlags[fileUIDs[0]]; got != `\Flagged \Seen` {
		t.Errorf("welcome message has flags %q in the file, want \\Flagged \\Seen", got)
	}

	// The IDLE client was told of each change while idling: its count
	// reaches the file's.
	for {
		l := next("waiting for the IDLE client to count the file's messages")
		if l == fmt.Sprintf("COUNT %d", len(fileUIDs)) {
			break
		}
	}
	fmt.Fprintln(idleIn, "stop")
	var idleUIDs []string
	for {
		l := next("reading the IDLE client's view")
		if l == "END" {
			break
		}
		if rest, ok := strings.CutPrefix(l, "UID "); ok {
			uid, flags, _ := strings.Cut(rest, " ")
			idleUIDs = append(idleUIDs, uid)
			if flags != fileFlags[uid] {
				t.Errorf("IDLE client: UID %s has %q, the file %q", uid, flags, fileFlags[uid])
			}
		}
	}
	if !slices.Equal(idleUIDs, fileUIDs) {
		t.Errorf("IDLE client sees UIDs %v, the file holds %v", idleUIDs, fileUIDs)
	}
	if err := idle.Wait(); err != nil {
		t.Errorf("IDLE client: %v\n%s", err, idleErr.String())
	}
	for i, dir := range []string{dir1, dir2} {
		if n := len(maildirFiles(t, dir)); n != len(fileUIDs) {
			t.Errorf("device %d holds %d messages, the server %d", i+1, n, len(fileUIDs))
		}
	}
}
