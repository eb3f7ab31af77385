package session_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestIMAPClient drives a session with go-imap's own client library: what
// a Go mail client sees, parsed (envelopes, structures, UIDPLUS data,
// unilateral EXISTS during IDLE).
func TestIMAPClient(t *testing.T) {
	e := newEnv(t)
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	exists := make(chan uint32, 16)
	c := imapclient.New(conn, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	defer c.Close()

	if err := c.Login("alice", "alice-secret").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 3 || sel.UIDNext != 4 || sel.UIDValidity == 0 {
		t.Errorf("SELECT: %+v", sel)
	}

	msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{
		UID: true, Flags: true, Envelope: true, RFC822Size: true, InternalDate: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.UID != 1 || m.Envelope.Subject != "Welcome to imapd" || m.Envelope.From[0].Addr() != "carol@example.com" ||
		m.RFC822Size != int64(len(msg1)) || !m.InternalDate.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("message 1: uid %d envelope %+v size %d date %v", m.UID, m.Envelope, m.RFC822Size, m.InternalDate)
	}
	if bs, ok := m.BodyStructure.(*imap.BodyStructureSinglePart); !ok || bs.Type != "text" || bs.Subtype != "plain" {
		t.Errorf("structure %#v", m.BodyStructure)
	}
	if body := m.FindBodySection(&imap.FetchItemBodySection{}); string(body) != msg1 {
		t.Errorf("BODY[] %q", body)
	}

	if err := c.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged, "Work"}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("Archive", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	moved, err := c.Move(imap.UIDSetNum(2), "Archive").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if moved.UIDValidity == 0 || moved.DestUIDs.String() != "1" || moved.SourceUIDs.String() != "2" {
		t.Errorf("MOVE data %+v", moved)
	}
	app := c.Append("Archive", int64(len(appendMsg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}})
	app.Write([]byte(appendMsg))
	app.Close()
	ad, err := app.Wait()
	if err != nil || ad.UID != 2 {
		t.Errorf("APPEND: %+v %v", ad, err)
	}
	st, err := c.Status("Archive", &imap.StatusOptions{NumMessages: true, NumUnseen: true}).Wait()
	if err != nil || *st.NumMessages != 2 || *st.NumUnseen != 1 {
		t.Errorf("STATUS: %+v %v", st, err)
	}
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Mailbox)
	}
	if strings.Join(names, ",") != "Archive,INBOX" {
		t.Errorf("LIST: %q", names)
	}

	for len(exists) > 0 {
		<-exists
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	e.deliver(e.inbox(), "frank@example.com", "while idle", "hi")
	select {
	case n := <-exists:
		if n != 3 {
			t.Errorf("EXISTS %d during IDLE, want 3", n)
		}
	case <-time.After(readLimit):
		t.Fatal("no EXISTS during IDLE")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
}
