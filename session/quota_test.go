package session_test

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/server"
	"imapd/session"
)

const quotaKB = 20

// quotaEnv is alice with user_quota 20 (KB), a folder Saved and a padding
// file in her folder directory that sets her usage.
func quotaEnv(t *testing.T) *env {
	e := newEnv(t, "user_quota 20")
	e.fill(e.folder("Saved"), "")
	return e
}

// pad makes alice's usage exactly limit+delta bytes (delta may be negative).
func (e *env) pad(delta int64) {
	e.t.Helper()
	var used int64
	if format == fmtMaildir {
		// Every file in the INBOX maildir, which holds the folders.
		filepath.WalkDir(e.inbox(), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				fi, _ := d.Info()
				used += fi.Size()
			}
			return nil
		})
	}
	for _, p := range []string{e.inbox(), e.folder("Saved")} {
		fi, err := os.Stat(p)
		if err != nil {
			e.t.Fatal(err)
		}
		if fi.Mode().IsRegular() {
			used += fi.Size()
		}
	}
	n := quotaKB*1024 + delta - used
	if n < 0 {
		e.t.Fatalf("usage %d already above the wanted %d", used, quotaKB*1024+delta)
	}
	e.write(e.folder("pad"), strings.Repeat("x", int(n)))
}

func appendCmd(size int) string {
	body := "Subject: q\r\n\r\n" + strings.Repeat("y", size)
	return "APPEND Saved {" + strconv.Itoa(len(body)) + "+}\r\n" + body
}

// Exactly at the quota: refused.
func TestQuotaExactlyAt(t *testing.T) {
	e := quotaEnv(t)
	e.pad(0)
	c := e.login()
	c.no("%s", appendCmd(100)).taggedHas(t, "NO [OVERQUOTA] APPEND refused")
	c.ok("NOOP")
}

// One byte under: one command may go over, the next is refused.
func TestQuotaOneByteUnder(t *testing.T) {
	e := quotaEnv(t)
	e.pad(-1)
	c := e.login()
	c.ok("%s", appendCmd(3000))
	c.no("%s", appendCmd(10)).taggedHas(t, "NO [OVERQUOTA]")
}

// Far over: APPEND, COPY and MOVE are refused; reading and deleting work.
func TestQuotaFarOver(t *testing.T) {
	e := quotaEnv(t)
	e.pad(100000)
	c := e.login()
	c.ok("SELECT INBOX")
	c.no("COPY 1 Saved").taggedHas(t, "NO [OVERQUOTA] COPY refused")
	c.no("MOVE 1 Saved").taggedHas(t, "NO [OVERQUOTA] MOVE refused")
	c.no("%s", appendCmd(10)).taggedHas(t, "NO [OVERQUOTA]")
	c.ok("FETCH 1 BODY.PEEK[]")
	c.ok("STORE 1 +FLAGS (\\Deleted)")
	c.ok("EXPUNGE")
}

// Mail the SMTP server delivers counts at once.
func TestQuotaMailDeliveredMeanwhile(t *testing.T) {
	e := quotaEnv(t)
	c := e.login()
	c.ok("%s", appendCmd(100))
	e.deliver(e.inbox(), "big@example.com", "big", strings.Repeat("z", quotaKB*1024))
	c.no("%s", appendCmd(100)).taggedHas(t, "NO [OVERQUOTA]")
}

// No quota: nothing is refused.
func TestQuotaOff(t *testing.T) {
	e := newEnv(t)
	e.fill(e.folder("Saved"), "")
	e.write(e.folder("pad"), strings.Repeat("x", 100000))
	c := e.login()
	c.ok("%s", appendCmd(100))
}

// QuotaRoot, which the command layer uses for GETQUOTAROOT and GETQUOTA.
func TestQuotaRoot(t *testing.T) {
	e := quotaEnv(t)
	e.pad(-2048)
	sessions := make(chan *session.Session, 1)
	e.stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	e.srv = server.NewServer(server.Options{
		NewDeps: func(net.Conn) (session.Deps, error) { return e.deps, nil },
		NewSession: func(d session.Deps, c session.Conn) (imapserver.Session, error) {
			s := session.New(d, c)
			sessions <- s
			return s, nil
		},
		Log: e.log,
	})
	go e.srv.Serve(ln)
	c := e.dial()
	s := <-sessions
	if _, _, _, _, err := s.QuotaRoot("INBOX"); err == nil {
		t.Error("QuotaRoot before login")
	}
	c.ok("LOGIN alice alice-secret")
	root, used, limit, ok, err := s.QuotaRoot("Saved")
	if err != nil || !ok || root != "" || limit != quotaKB || used != quotaKB-2 {
		t.Errorf("QuotaRoot(Saved) = %q %d %d %v %v", root, used, limit, ok, err)
	}
	if _, _, _, ok, err := s.QuotaRoot(""); !ok || err != nil {
		t.Errorf("QuotaRoot(\"\") = %v %v", ok, err)
	}
	_, _, _, _, err = s.QuotaRoot("Nonesuch")
	var ierr *imap.Error
	if !errors.As(err, &ierr) || ierr.Code != imap.ResponseCodeNonExistent {
		t.Errorf("QuotaRoot(Nonesuch): %v", err)
	}
	c.logout()
}

// The QUOTA commands (RFC 9208) over a real connection: the server's input
// guard answers them from the session's QuotaRoot.
func TestQuotaCommands(t *testing.T) {
	e := quotaEnv(t)
	e.pad(-2048)
	c := e.login()
	r := c.ok("CAPABILITY")
	if len(r.Untagged) != 1 || !strings.Contains(r.Untagged[0], " QUOTA ") && !strings.HasSuffix(r.Untagged[0], " QUOTA") || !strings.Contains(r.Untagged[0], " QUOTA=RES-STORAGE") {
		t.Errorf("QUOTA not advertised: %q", r.Untagged)
	}
	usage := `* QUOTA "" (STORAGE 18 20)`
	c.ok("GETQUOTAROOT INBOX").exactly(t, `* QUOTAROOT "INBOX" ""`, usage)
	c.ok("GETQUOTAROOT Saved").exactly(t, `* QUOTAROOT "Saved" ""`, usage)
	c.ok(`GETQUOTA ""`).exactly(t, usage)
	c.no(`GETQUOTA "other"`)
	c.no("GETQUOTAROOT nosuch")
	c.no(`SETQUOTA "" (STORAGE 100)`)
	c.bad("GETQUOTAROOT")
	c.bad(`GETQUOTAROOT "&,,,-"`)

	e2 := newEnv(t)
	c2 := e2.login()
	c2.ok("GETQUOTAROOT INBOX").exactly(t, `* QUOTAROOT "INBOX"`)
	c2.no(`GETQUOTA ""`)
	c3 := e2.dial()
	c3.bad("GETQUOTAROOT INBOX")
}
