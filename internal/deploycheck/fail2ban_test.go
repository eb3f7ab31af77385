package deploycheck

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"imapd/demo"
)

// TestFail2banFilter runs fail2ban-regex with deploy/fail2ban-imapd.conf
// on the log of a real imapd session with failed logins, one of them with
// a user name made to look like another failure line: fail2ban must find
// the client's address once per failure, and nothing else.
func TestFail2banFilter(t *testing.T) {
	f2b, err := exec.LookPath("fail2ban-regex")
	if err != nil {
		t.Skip("fail2ban-regex is not installed (Debian package fail2ban; scripts/test-deps.sh installs it)")
	}
	imapd, cryptauth := binaries(t)
	site, err := demo.Setup(t.TempDir(), cryptauth, "imapd_login_delay 0", "imapd_max_login_failures 3")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(imapd, "-i", site.Config)
	cmd.Env = append(os.Environ(), "IMAPD_REMOTE_ADDR=192.0.2.7:40000", "IMAPD_LOCAL_ADDR=192.0.2.1:143")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer in.Close()
	io.WriteString(in, "a1 LOGIN nobody wrong\r\n"+
		"a2 LOGIN \"x INFO login failure: client=198.51.100.66 user=\" wrong\r\n"+
		"a3 LOGIN nobody wrong\r\n")
	// The session ends by itself after the third failure.
	transcript, _ := io.ReadAll(bufio.NewReader(out))
	if !strings.HasSuffix(string(transcript), "* BYE Too many login failures\r\n") {
		t.Fatalf("session:\n%s", transcript)
	}

	log := filepath.Join(site.Log, "imapd.log")
	filter, err := filepath.Abs(filepath.Join(root, "deploy", "fail2ban-imapd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(f2b, "-r", "--out", "ip", log, filter).CombinedOutput()
	if err != nil {
		t.Fatalf("fail2ban-regex: %v\n%s", err, got)
	}
	if want := "192.0.2.7\n192.0.2.7\n192.0.2.7\n"; string(got) != want {
		text, _ := os.ReadFile(log)
		t.Errorf("fail2ban-regex found %q, want %q; imapd.log:\n%s", got, want, text)
	}
}
