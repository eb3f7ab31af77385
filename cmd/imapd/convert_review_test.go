package main

import (
	"path/filepath"
	"strings"
	"testing"

	"imapd/mailbox"
	"imapd/mailbox/maildir"
	"imapd/mailbox/mbox"
)

// Review of -convert's restart: between two runs the user still reads mail
// on the legacy server, so messages already copied can change flags or be
// expunged in the drop file. A second run must bring the maildir to the
// drop file's state (or at least not fail for ever, nor bring an expunged
// message back).
func TestReviewConvertRerunAfterChanges(t *testing.T) {
	conf, inbox, home := convertSite(t)
	mopt := mbox.Options{Hostname: "test"}
	a := &app{path: conf, host: "test"}
	var out strings.Builder
	if rc := a.convert("alice", &out); rc != 0 {
		t.Fatalf("convert: rc %d\n%s", rc, out.String())
	}

	// The user reads message 1 and expunges message 2 on the legacy server.
	mb, err := mbox.Open(inbox, mopt)
	if err != nil {
		t.Fatal(err)
	}
	mb.SetFlags(0, mailbox.Seen, nil)
	mb.SetFlags(1, mailbox.Deleted, nil)
	if _, err := mb.Expunge(nil); err != nil {
		t.Fatal(err)
	}
	if err := mb.Close(); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	if rc := a.convert("alice", &out); rc != 0 {
		t.Fatalf("second convert after changes in the drop file: rc %d\n%s", rc, out.String())
	}
	dst, err := maildir.Open(filepath.Join(home, "alice.mdir"), maildir.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if dst.Len() != 2 || dst.Message(0).Flags != mailbox.Seen {
		t.Errorf("after the second run: %d messages (want 2), first flags %v (want \\Seen)", dst.Len(), dst.Message(0).Flags)
	}
}
