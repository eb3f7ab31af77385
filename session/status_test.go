package session_test

import (
	"fmt"
	"testing"
)

func TestStatus(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	// STATUS before any SELECT gives the UIDVALIDITY a SELECT will give.
	st := c.ok("STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)")
	v := c.ok("EXAMINE INBOX").uidValidity(t)
	// go-imap's order, whatever the client's.
	st.exactly(t, "* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY "+v+" UNSEEN 3 RECENT 3)")
	c.ok("STATUS inbox (UNSEEN MESSAGES)").exactly(t, "* STATUS INBOX (MESSAGES 3 UNSEEN 3)")

	// SIZE is the sum of RFC822.SIZE.
	var sum int
	for _, l := range c.ok("FETCH 1:3 RFC822.SIZE").Untagged {
		var seq, n int
		fmt.Sscanf(l, "* %d FETCH (RFC822.SIZE %d)", &seq, &n)
		sum += n
	}
	c.ok("UNSELECT")
	c.ok("STATUS INBOX (SIZE)").exactly(t, fmt.Sprintf("* STATUS INBOX (SIZE %d)", sum))

	c.ok("CREATE a")
	c.ok("STATUS a (MESSAGES RECENT UNSEEN)").exactly(t, `* STATUS "a" (MESSAGES 0 UNSEEN 0 RECENT 0)`)
	c.no("STATUS nosuch (MESSAGES)").taggedHas(t, "NO [NONEXISTENT] ")
	c.ok("CREATE d/")
	c.no("STATUS d (MESSAGES)")
	c.refused(`STATUS "../x" (MESSAGES)`)
	c.refused("STATUS INBOX (BOGUS)")
	c.ok("NOOP")
}

// TestStatusSelected: STATUS of the selected mailbox tells the session's
// own view, flags changed and new mail included.
func TestStatusSelected(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	v := c.ok("SELECT INBOX").uidValidity(t)
	c.ok(`STORE 1:2 +FLAGS.SILENT (\Seen)`)
	c.ok("STATUS INBOX (MESSAGES RECENT UNSEEN UIDNEXT UIDVALIDITY)").exactly(t,
		"* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY "+v+" UNSEEN 1 RECENT 3)")
	e.deliver(e.inbox(), "x@example.com", "new", "new mail")
	// Consistent with what the client was told: the new message is
	// announced after the STATUS reply, and counted from then on.
	c.ok("STATUS INBOX (MESSAGES UNSEEN UIDNEXT)").exactly(t, "* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UNSEEN 1)", "* 4 EXISTS", "* 4 RECENT")
	c.ok("STATUS INBOX (MESSAGES UNSEEN UIDNEXT)").exactly(t, "* STATUS INBOX (MESSAGES 4 UIDNEXT 5 UNSEEN 2)")
	// Another session (EXAMINE, so nothing is taken over) agrees.
	b := e.login()
	b.ok("STATUS INBOX (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)").exactly(t,
		fmt.Sprintf("* STATUS INBOX (MESSAGES 4 UIDNEXT 5 UIDVALIDITY %s UNSEEN 2)", v))
	c.ok("NOOP").exactly(t)
}

// TestStatusDeleted: STATUS DELETED and DELETED-STORAGE (RFC 9051 6.3.11)
// count the \Deleted messages, of the selected mailbox (what the session
// holds) and of one that is not (the storage's count).
func TestStatusDeleted(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("STATUS INBOX (DELETED DELETED-STORAGE)").exactly(t, "* STATUS INBOX (DELETED 0 DELETED-STORAGE 0)")
	c.ok("SELECT INBOX")
	var sizes []string
	for _, l := range c.ok("FETCH 1:3 RFC822.SIZE").Untagged {
		var n, size int
		if _, err := fmt.Sscanf(l, "* %d FETCH (RFC822.SIZE %d)", &n, &size); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		sizes = append(sizes, fmt.Sprint(size))
	}
	var sum int
	for _, i := range []int{0, 2} {
		var n int
		fmt.Sscan(sizes[i], &n)
		sum += n
	}
	c.ok(`STORE 1,3 +FLAGS.SILENT (\Deleted)`)
	want := fmt.Sprintf("* STATUS INBOX (MESSAGES 3 DELETED 2 DELETED-STORAGE %d)", sum)
	c.ok("STATUS INBOX (MESSAGES DELETED DELETED-STORAGE)").exactly(t, want)
	c.ok("UNSELECT")
	c.ok("STATUS INBOX (MESSAGES DELETED DELETED-STORAGE)").exactly(t, want)
	b := e.login()
	b.ok("STATUS INBOX (MESSAGES DELETED DELETED-STORAGE)").exactly(t, want)
	c.ok(`LIST "" INBOX RETURN (STATUS (DELETED))`).exactly(t, `* LIST (\Noinferiors) NIL INBOX`, `* STATUS INBOX (DELETED 2)`)
}
