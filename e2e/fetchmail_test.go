package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFetchmail: fetchmail (a real POP-style IMAP client) downloads the
// INBOX and deletes what it fetched; the drop file is left with only UW's
// folder-internal-data message, which keeps UIDVALIDITY and the last UID
// (docs/formats.md §3).
func TestFetchmail(t *testing.T) {
	fetchmail := clientTool(t, "fetchmail", "fetchmail")
	site, host, port := demoServer(t)
	dir := t.TempDir()
	outFile := filepath.Join(dir, "delivered")
	rc := filepath.Join(dir, "fetchmailrc")
	conf := fmt.Sprintf("set no bouncemail\npoll %s service %s protocol IMAP auth password user \"alice\" password \"alice-secret\" is \"alice\" here sslproto '' mda \"/bin/sh -c 'cat >> %s'\"\n", host, port, outFile)
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(fetchmail, "-f", rc, "--nosyslog", "--nodetach", "-v", "--pidfile", filepath.Join(dir, "pid"))
	cmd.Env = append(os.Environ(), "HOME="+dir, "FETCHMAILHOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fetchmail: %v\n%s\nlog:\n%s", err, out, logTail(site))
	}
	got, _ := os.ReadFile(outFile)
	for _, subj := range []string{"Welcome to imapd", "Lunch on Friday?", "Quarterly report"} {
		if strings.Count(string(got), "Subject: "+subj) != 1 {
			t.Errorf("fetchmail did not deliver %q once:\n%s", subj, got)
		}
	}
	if strings.Contains(string(got), "X-UID") || strings.Contains(string(got), "X-IMAPbase") {
		t.Errorf("internal headers leaked to the client:\n%s", got)
	}
	sum := storeSummary(t, inboxOf(site, "alice"))
	if len(sum) != 1 || !strings.HasPrefix(sum[0], "PSEUDO|") || !strings.HasSuffix(strings.TrimSpace(sum[0]), " 0000000003") {
		t.Errorf("drop file after fetchmail: %q (want only the pseudo-message with uidlast 3)", sum)
	}
}
