package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"imapd/mailbox"
	"imapd/mailbox/maildir"
	"imapd/mailbox/mbox"
)

// -convert copies alice's drop file and folders into maildirs with the same
// UIDVALIDITY, UIDs, flags and bytes; run again, it adds only what is new.
// convertSite is a spool where alice's drop file holds three messages,
// with maildir_home set: the configuration, her drop file and the maildir
// home.
func convertSite(t *testing.T) (conf, inbox, home string) {
	t.Helper()
	dir := tempDir(t)
	home = filepath.Join(dir, "maildirs")
	spool := filepath.Join(dir, "spool")
	conf = filepath.Join(dir, "dmail.conf")
	os.MkdirAll(spool, 0o755)
	os.WriteFile(conf, []byte("drop_path "+spool+"\nmaildir_home "+home+"\nauthent_method unix_user\n"), 0o644)
	inbox = filepath.Join(spool, "alice")
	var three []mailbox.NewMessage
	for _, subj := range []string{"one", "two", "three"} {
		body := "Subject: " + subj + "\r\n\r\nbody\n"
		three = append(three, mailbox.NewMessage{Body: strings.NewReader(body), Size: int64(len(body))})
	}
	os.WriteFile(inbox, nil, 0o600)
	if _, _, err := mbox.AppendTo(inbox, three, mbox.Options{Hostname: "test"}); err != nil {
		t.Fatal(err)
	}
	return conf, inbox, home
}

func TestConvert(t *testing.T) {
	conf, inbox, home := convertSite(t)
	mopt := mbox.Options{Hostname: "test"}
	mb, err := mbox.Open(inbox, mopt)
	if err != nil {
		t.Fatal(err)
	}
	mb.SetFlags(0, mailbox.Seen|mailbox.Answered, []string{"$Label1"})
	mb.SetFlags(2, mailbox.Deleted, nil)
	if err := mb.Close(); err != nil {
		t.Fatal(err)
	}
	folder := inbox + ".mbx"
	os.MkdirAll(filepath.Join(folder, "Work"), 0o700)
	archive := filepath.Join(folder, "Work", "Archive")
	os.WriteFile(archive, nil, 0o600)
	mbox.Initialize(archive, mopt)
	_, _, err = mbox.AppendTo(archive, []mailbox.NewMessage{{Body: strings.NewReader("Subject: old\r\n\r\nx\r\n"), Size: 19, Flags: mailbox.Flagged}}, mopt)
	if err != nil {
		t.Fatal(err)
	}

	a := &app{path: conf, host: "test"}
	var out strings.Builder
	if rc := a.convert("alice", &out); rc != 0 {
		t.Fatalf("convert: rc %d\n%s", rc, out.String())
	}
	if !strings.Contains(out.String(), "INBOX                          3 messages, verified") ||
		!strings.Contains(out.String(), "Work/Archive                   1 messages, verified") {
		t.Errorf("output:\n%s", out.String())
	}
	md := filepath.Join(home, "alice.mdir")
	src, _ := mbox.Open(inbox, mbox.Options{ReadOnly: true})
	dst, err := maildir.Open(md, maildir.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if dst.UIDValidity() != src.UIDValidity() || dst.Len() != 3 || dst.UIDNext() != src.UIDNext() {
		t.Fatalf("maildir: validity %d/%d len %d next %d/%d", dst.UIDValidity(), src.UIDValidity(), dst.Len(), dst.UIDNext(), src.UIDNext())
	}
	if m := dst.Message(0); m.Flags != mailbox.Seen|mailbox.Answered || !slices.Equal(m.Keywords, []string{"$Label1"}) {
		t.Errorf("flags not kept: %+v", m)
	}
	if st, err := maildir.Stat(filepath.Join(md, "Work", "Archive"), maildir.Options{}); err != nil || st.Messages != 1 {
		t.Errorf("folder: %+v %v", st, err)
	}

	// New mail in the drop file; a second run adds just that.
	if _, _, err := mbox.AppendTo(inbox, []mailbox.NewMessage{{Body: strings.NewReader("Subject: new\r\n\r\ny\r\n"), Size: 19}}, mopt); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if rc := a.convert("alice", &out); rc != 0 {
		t.Fatalf("second convert: rc %d\n%s", rc, out.String())
	}
	dst, _ = maildir.Open(md, maildir.Options{ReadOnly: true})
	if dst.Len() != 4 || dst.Message(3).UID != 4 {
		t.Errorf("after the second run: %d messages", dst.Len())
	}
	if _, err := os.Stat(inbox); err != nil {
		t.Errorf("the drop file was touched: %v", err)
	}
}
