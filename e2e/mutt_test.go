package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMutt drives the real mutt in a terminal (tmux): open the INBOX over
// IMAP, delete the first message, save the second into a new folder, sync
// and quit. The drop file and the new folder file are then read with the
// independent reader.
func TestMutt(t *testing.T) {
	mutt := clientTool(t, "mutt", "mutt")
	tmux := clientTool(t, "tmux", "tmux")
	site, host, port := demoServer(t)
	dir := t.TempDir()
	rc := filepath.Join(dir, "muttrc")
	conf := fmt.Sprintf(`set folder="imap://alice@%s:%s/"
set spoolfile="+INBOX"
set imap_pass="alice-secret"
set ssl_starttls=no
set ssl_force_tls=no
set confirmcreate=no
set confirmappend=no
set delete=yes
set quit=yes
set move=no
set mark_old=no
set sort=date-sent
set header_cache=""
set message_cachedir=""
set imap_check_subscribed=no
`, host, port)
	os.WriteFile(rc, []byte(conf), 0o600)
	sock := filepath.Join(dir, "tmux.sock")
	tm := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	cmd := fmt.Sprintf("HOME=%s TERM=xterm %s -n -F %s", dir, mutt, rc)
	tm("new-session", "-d", "-x", "120", "-y", "40", "sh", "-c", cmd)
	t.Cleanup(func() { exec.Command(tmux, "-S", sock, "kill-server").Run() })

	// screenHas polls the terminal until it shows want: readiness polling of
	// an interactive program, bounded to 20 s.
	screenHas := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		var screen string
		for time.Now().Before(deadline) {
			screen = tm("capture-pane", "-p")
			if strings.Contains(screen, want) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("mutt never showed %q; screen:\n%s\nlog:\n%s", want, screen, logTail(site))
	}
	screenHas("Welcome to imapd")
	screenHas("Quarterly report")
	tm("send-keys", "d")                    // delete message 1 (Welcome), cursor moves on
	tm("send-keys", "s", "=Saved", "Enter") // save (move) message 2 (Lunch) to a new folder
	screenHas("Del:2")                      // saved messages are marked deleted (mutt's save moves)
	tm("send-keys", "$")                    // sync: expunge the deleted
	screenHas("Quarterly report")
	tm("send-keys", "q")
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := exec.Command(tmux, "-S", sock, "has-session").CombinedOutput(); err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	got := noPseudo(storeSummary(t, inboxOf(site, "alice")))
	var subjects []string
	for _, l := range got {
		subjects = append(subjects, strings.SplitN(l, "|", 2)[0])
	}
	if strings.Join(subjects, ",") != "Quarterly report" {
		t.Errorf("drop file after mutt: %q", got)
	}
	saved := storeSummary(t, folderOf(site, "alice", "Saved"))
	if len(saved) != 2 || !strings.HasPrefix(saved[1], "Lunch on Friday?|1|") {
		t.Errorf("Saved folder after mutt: %q", saved)
	}
}
