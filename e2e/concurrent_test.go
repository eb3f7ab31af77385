package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestDeliveryDuringExpunge: a separate process delivers messages one by
// one (dot-lock + flock, like the SMTP server) while an IMAP client keeps
// deleting and expunging the even-numbered ones. Afterwards every odd
// delivery is in the drop file exactly once, no even one is, and the three
// messages that were there before are untouched.
func TestDeliveryDuringExpunge(t *testing.T) {
	const n = 150
	site := newSite(t)
	srv := startListen(t, site)
	c, err := imapclient.DialInsecure(srv.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice", "alice-secret").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}

	appender := appender(inboxOf(site, "alice"), n, "smtp@example.com", "Load")
	out := &strings.Builder{}
	appender.Stdout, appender.Stderr = out, out
	if err := appender.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- appender.Wait() }()

	expungeEvens := func() int {
		t.Helper()
		if err := c.Noop().Wait(); err != nil {
			t.Fatal(err)
		}
		msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Envelope: true}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		var del imap.UIDSet
		for _, m := range msgs {
			var k int
			if _, err := fmt.Sscanf(m.Envelope.Subject, "Load #%d", &k); err == nil && k%2 == 0 {
				del.AddNum(m.UID)
			}
		}
		if len(del) == 0 {
			return 0
		}
		if err := c.Store(del, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Expunge().Close(); err != nil {
			t.Fatal(err)
		}
		return len(msgs)
	}
	rounds := 0
	for running := true; running; rounds++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("appender: %v\n%s", err, out)
			}
			running = false
		default:
		}
		expungeEvens()
	}
	expungeEvens()
	c.Logout().Wait()

	got := noPseudo(storeSummary(t, inboxOf(site, "alice")))
	var subjects []string
	for _, l := range got {
		subjects = append(subjects, strings.SplitN(l, "|", 2)[0])
	}
	var want []string
	want = append(want, "Welcome to imapd", "Lunch on Friday?", "Quarterly report")
	for k := 1; k <= n; k += 2 {
		want = append(want, fmt.Sprintf("Load #%d", k))
	}
	sort.Strings(subjects)
	sort.Strings(want)
	if strings.Join(subjects, "\n") != strings.Join(want, "\n") {
		t.Errorf("after %d expunge rounds the drop file holds\n%q\nwant\n%q", rounds, subjects, want)
	}
	// Every message has a distinct UID.
	uids := map[string]bool{}
	for _, l := range got {
		f := strings.Split(l, "|")
		if uids[f[1]] || f[1] == "" {
			t.Errorf("UID %q missing or repeated: %s", f[1], l)
		}
		uids[f[1]] = true
	}
	t.Logf("%d expunge rounds while %d messages were delivered", rounds, n)
}
