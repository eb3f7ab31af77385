package session_test

// The test harness: every test runs a real server (package server, as
// cmd/imapd wires it) on a TCP socket on 127.0.0.1, over a real demo site
// (package demo: spool, dmail.conf with authent_method external, and the
// real cryptauth program checking crypt()ed passwords). Clients speak raw
// protocol lines so that assertions are on the exact bytes the server sent.

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/config"
	"imapd/demo"
	"imapd/internal/imaptest"
	"imapd/internal/storagetest"
	"imapd/internal/syncbuf"
	"imapd/logging"
	"imapd/mailbox"
	"imapd/mailbox/maildir"
	"imapd/mailbox/mbox"
	"imapd/mailbox/storage"
	"imapd/server"
	"imapd/session"
)

const (
	testHost = "imap.test"
	// readLimit bounds every read of a broken test; no assertion depends on
	// time.
	readLimit = 20 * time.Second
	// idlePoll is how often IDLE looks at the mailbox in these tests.
	idlePoll = 20 * time.Millisecond
)

// cryptauthPath is the cryptauth binary built once by TestMain.
var cryptauthPath string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// A prebuilt cryptauth (e.g. cryptauth.exe when these tests run as a
	// Windows program under Wine, where there is no go tool).
	if p := os.Getenv("IMAPD_TEST_CRYPTAUTH"); p != "" {
		cryptauthPath = p
		return runFormats(m)
	}
	dir, err := os.MkdirTemp("", "session-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cryptauthPath = filepath.Join(dir, "cryptauth")
	if runtime.GOOS == "windows" {
		cryptauthPath += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", cryptauthPath, "imapd/cmd/cryptauth").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build cryptauth: %v\n%s", err, out)
		return 1
	}
	return runFormats(m)
}

// Storage formats: the whole suite runs once per format (use_maildir false,
// then true), the same tests on the same demo site. IMAPD_TEST_FORMAT=mbox
// or =maildir runs one only.
const (
	fmtMbox    = storagetest.Mbox
	fmtMaildir = storagetest.Maildir
)

// format is the storage format of the current run of the suite.
var format = fmtMbox

func runFormats(m *testing.M) int {
	return storagetest.Run(m, func(f string) { format = f })
}

// onlyMbox skips a test that checks the bytes of mbox files (drop file,
// folder files, their status headers) when the suite runs on maildir.
func onlyMbox(t testing.TB) {
	t.Helper()
	if format != fmtMbox {
		t.Skip("checks mbox bytes on disk")
	}
}

// onlyMaildir skips a test of maildir files when the suite runs on mbox.
func onlyMaildir(t testing.TB) {
	t.Helper()
	if format != fmtMaildir {
		t.Skip("checks maildir files on disk")
	}
}

// syncBuffer collects output written from several goroutines.
type syncBuffer = syncbuf.Buffer

// env is one demo site served by one server.
type env struct {
	t      testing.TB
	site   *demo.Site
	cfg    *config.Config
	log    *logging.Logger
	logBuf *syncBuffer
	srv    *server.Server
	addr   string
	closed chan struct{} // one value per closed session
	deps   session.Deps
}

// newEnv sets up a demo site (alice has the 3 demo messages in INBOX; bob
// has no drop file) and serves it; extraConf lines go to dmail.conf.
func newEnv(t testing.TB, extraConf ...string) *env {
	t.Helper()
	return newEnvIn(t, t.TempDir(), extraConf...)
}

// newEnvIn is newEnv with the demo site in dir.
func newEnvIn(t testing.TB, dir string, extraConf ...string) *env {
	t.Helper()
	t.Logf("storage format %s", format)
	home := filepath.Join(dir, "maildir")
	if format == fmtMaildir {
		extraConf = append([]string{"use_maildir true", "maildir_home " + home}, extraConf...)
	}
	site, err := demo.Setup(dir, cryptauthPath, extraConf...)
	if err != nil {
		t.Fatal(err)
	}
	if format == fmtMaildir {
		// The demo INBOX as an MTA would have delivered it into new/.
		drop := site.DropFile("alice")
		b, err := os.ReadFile(drop)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(drop); err != nil {
			t.Fatal(err)
		}
		fillMaildir(t, filepath.Join(home, "alice.mdir"), string(b))
	}
	cfg, problems, err := config.Load(site.Config)
	if err != nil {
		t.Fatal(err)
	}
	if config.HasErrors(problems) {
		t.Fatalf("config problems: %v", problems)
	}
	e := &env{t: t, site: site, cfg: cfg, logBuf: &syncBuffer{}, closed: make(chan struct{}, 100)}
	e.log = logging.New(e.logBuf, logging.LevelDebug)
	e.deps = session.Deps{Config: cfg, Log: e.log, Hostname: testHost, Version: "test", IdlePoll: idlePoll,
		NewStore: storage.For(cfg, testHost)}
	e.start()
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			t.Logf("server log:\n%s", e.logBuf.String())
		}
	})
	return e
}

// trackedSession tells the env when a session is closed (its flags are
// then on disk).
type trackedSession struct {
	*session.Session
	closed chan<- struct{}
}

func (s trackedSession) Close() error {
	err := s.Session.Close()
	s.closed <- struct{}{}
	return err
}

func (e *env) start() {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	e.srv = server.NewServer(server.Options{
		NewDeps: func(net.Conn) (session.Deps, error) { return e.deps, nil },
		NewSession: func(d session.Deps, c session.Conn) (imapserver.Session, error) {
			return trackedSession{session.New(d, c), e.closed}, nil
		},
		Log: e.log,
		// Failed logins cost 1 ms, not seconds (the delays are tested in
		// package server).
		LoginDelay: time.Millisecond,
	})
	go e.srv.Serve(ln)
}

// stop shuts the server down and waits until every session is closed.
func (e *env) stop() {
	if e.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), readLimit)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		e.t.Errorf("shutdown: %v", err)
	}
	e.srv = nil
}

// waitClosed waits until n more sessions have been closed.
func (e *env) waitClosed(n int) {
	e.t.Helper()
	timer := time.NewTimer(readLimit)
	defer timer.Stop()
	for range n {
		select {
		case <-e.closed:
		case <-timer.C:
			e.t.Fatal("session was not closed")
		}
	}
}

// inbox is alice's INBOX: her drop file, or her INBOX maildir.
func (e *env) inbox() string { return e.inboxOf("alice") }

// inboxOf is a user's drop file or INBOX maildir.
func (e *env) inboxOf(user string) string {
	if format == fmtMaildir {
		return filepath.Join(e.site.Dir, "maildir", user+".mdir")
	}
	return e.site.DropFile(user)
}

// folder is the file (mbox) or directory (maildir) of alice's folder
// name; folder("") is the directory that holds her folders.
func (e *env) folder(name string) string {
	if format == fmtMaildir {
		return filepath.Join(e.inbox(), filepath.FromSlash(name))
	}
	return filepath.Join(e.inbox()+".mbx", filepath.FromSlash(name))
}

// fill makes path (from inbox or folder) a mailbox of the messages of the
// mbox text: the file itself for mbox; for maildir, each message delivered
// into new/ in order, dated by its From line, as an MTA would.
func (e *env) fill(path, mboxText string) {
	e.t.Helper()
	if format == fmtMaildir {
		fillMaildir(e.t, path, mboxText)
		return
	}
	e.write(path, mboxText)
}

// deliveries numbers the files fillMaildir and deliver put in new/, so
// that they sort (and get UIDs) in delivery order.
var deliveries atomic.Uint64

// fillMaildir delivers the messages of an mbox text into the maildir dir
// (created if needed) with their bytes as an mbox reader presents them.
func fillMaildir(t testing.TB, dir, mboxText string) {
	t.Helper()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if mboxText == "" {
		return
	}
	src := filepath.Join(t.TempDir(), "mbox")
	if err := os.WriteFile(src, []byte(mboxText), 0o600); err != nil {
		t.Fatal(err)
	}
	mb, err := mbox.Open(src, mbox.Options{ReadOnly: true, Hostname: testHost})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	for i := range mb.Len() {
		m := mb.Message(i)
		if m.Flags != 0 || len(m.Keywords) > 0 {
			t.Fatalf("fillMaildir: message %d has flags; deliveries have none", i+1)
		}
		r, err := mb.Open(i)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		deliverMaildir(t, dir, b, m.InternalDate)
	}
}

// deliverMaildir is an MTA's maildir delivery: the message is written to
// tmp/ and renamed into new/.
func deliverMaildir(t testing.TB, dir string, msg []byte, date time.Time) {
	t.Helper()
	base := fmt.Sprintf("1700000000.M%09dP%d.harness", deliveries.Add(1), os.Getpid())
	if err := demo.DeliverMaildir(dir, base, msg, date); err != nil {
		t.Fatal(err)
	}
}

func (e *env) read(path string) string {
	e.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

func (e *env) write(path, content string) {
	e.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// deliver appends one message to path as the DMail SMTP server does: under
// the dot-lock, LF line ends, a From line first, a blank line after.
//
// For maildir, path is the maildir and the message (without the From line)
// goes to tmp/, then new/.
func (e *env) deliver(path, from, subject, body string) {
	e.t.Helper()
	if format == fmtMaildir {
		msg := fmt.Sprintf("From: %s\nTo: alice@demo.example\nSubject: %s\n\n%s\n", from, subject, body)
		deliverMaildir(e.t, path, []byte(msg), time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
		return
	}
	lock := path + ".lock"
	lf, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
	if err != nil {
		e.t.Fatalf("dot-lock %s: %v", lock, err)
	}
	lf.Close()
	defer os.Remove(lock)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	msg := fmt.Sprintf("From %s Mon Nov 23 10:00:00 2026\nFrom: %s\nTo: alice@demo.example\nSubject: %s\n\n%s\n\n", from, from, subject, body)
	if _, err := f.WriteString(msg); err != nil {
		e.t.Fatal(err)
	}
}

// mbox writes a drop file or folder of n simple messages (subject
// "message <i>", body "body <i>"), LF line ends, no status headers.
func mboxOf(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "From sender%d@example.com Mon Nov %2d 10:00:00 2026\n", i, i)
		fmt.Fprintf(&b, "From: sender%d@example.com\nTo: alice@demo.example\nSubject: message %d\n", i, i)
		fmt.Fprintf(&b, "Date: Mon, %d Nov 2026 10:00:00 +0000\nMessage-ID: <m%d@example.com>\n\nbody %d\n\n", i, i, i)
	}
	return b.String()
}

// dial opens a connection and reads the greeting.
func (e *env) dial() *client {
	e.t.Helper()
	conn := imaptest.Dial(e.t, e.addr)
	conn.Timeout = readLimit
	c := &client{Conn: conn, t: e.t, conn: conn.NetConn()}
	c.Greeting = c.Response()
	return c
}

// login dials and logs alice in.
func (e *env) login() *client {
	e.t.Helper()
	c := e.dial()
	c.ok("LOGIN alice alice-secret")
	return c
}

// client is the raw IMAP client of these tests, imaptest.Conn, under the
// short names the tests of this package are written with: cmd sends a
// command with the next tag ("A001"...) and reads up to its tagged reply;
// ok, no and bad also check its status. Responses come without their final
// CRLF, literals inline.
type client struct {
	*imaptest.Conn
	t        testing.TB
	conn     net.Conn
	Greeting string
}

// result is what one command got back (imaptest.Result: Untagged, Tagged
// without the tag, Status).
type result struct{ *imaptest.Result }

func (c *client) send(line string)             { c.t.Helper(); c.Send(line) }
func (c *client) sendRaw(b string)             { c.t.Helper(); c.SendRaw(b) }
func (c *client) readResponse() string         { c.t.Helper(); return c.Response() }
func (c *client) tag() string                  { return c.NextTag() }
func (c *client) collect(tag string) *result   { c.t.Helper(); return &result{c.Collect(tag)} }
func (c *client) waitFor(line string) []string { c.t.Helper(); return c.WaitFor(line) }
func (c *client) readEOF() []string            { c.t.Helper(); return c.ReadToEOF() }
func (c *client) cmd(format string, args ...any) *result {
	c.t.Helper()
	return &result{c.Command(format, args...)}
}
func (c *client) ok(format string, args ...any) *result {
	c.t.Helper()
	return &result{c.OK(format, args...)}
}
func (c *client) no(format string, args ...any) *result {
	c.t.Helper()
	return &result{c.NO(format, args...)}
}
func (c *client) bad(format string, args ...any) *result {
	c.t.Helper()
	return &result{c.BAD(format, args...)}
}

// refused sends a command that must fail (NO or BAD, as go-imap answers
// some syntax errors with NO [SERVERBUG]) without ending the session.
func (c *client) refused(format string, args ...any) *result {
	c.t.Helper()
	r := c.cmd(format, args...)
	if r.Status != "NO" && r.Status != "BAD" {
		c.t.Errorf("%s: want NO or BAD, got %q", fmt.Sprintf(format, args...), r.Tagged)
	}
	return r
}

// logout ends the session the polite way.
func (c *client) logout() {
	c.t.Helper()
	r := c.ok("LOGOUT")
	want := "* BYE " + testHost + " IMAP4rev1 server terminating connection"
	if !slices.Contains(r.Untagged, want) {
		c.t.Errorf("LOGOUT: untagged %q, want %q", r.Untagged, want)
	}
}

func (r *result) has(t *testing.T, lines ...string) { t.Helper(); r.Has(t, lines...) }
func (r *result) lacks(t *testing.T, prefix string) { t.Helper(); r.Lacks(t, prefix) }
func (r *result) exactly(t *testing.T, lines ...string) {
	t.Helper()
	r.Exactly(t, lines...)
}
func (r *result) taggedIs(t *testing.T, want string)    { t.Helper(); r.TaggedIs(t, want) }
func (r *result) taggedHas(t *testing.T, prefix string) { t.Helper(); r.TaggedHas(t, prefix) }

// uidValidity returns the UIDVALIDITY of a SELECT reply.
func (r *result) uidValidity(t *testing.T) string {
	t.Helper()
	for _, l := range r.Untagged {
		if rest, ok := strings.CutPrefix(l, "* OK [UIDVALIDITY "); ok {
			v, _, _ := strings.Cut(rest, "]")
			return v
		}
	}
	t.Fatalf("no UIDVALIDITY in %q", r.Untagged)
	return ""
}

// statusOf returns the Status and X-Status header values of each message of
// an mbox file's text, in order ("" when absent), skipping the pseudo
// message.
func statusOf(text string) (status, xstatus []string) {
	for _, m := range splitMbox(text) {
		if strings.Contains(m, "\nX-IMAP: ") {
			continue
		}
		hdr, _, _ := strings.Cut(m, "\n\n")
		st, xs := "", ""
		for _, l := range strings.Split(hdr, "\n") {
			if v, ok := strings.CutPrefix(l, "Status: "); ok {
				st = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(l, "X-Status: "); ok {
				xs = strings.TrimSpace(v)
			}
		}
		status = append(status, st)
		xstatus = append(xstatus, xs)
	}
	return status, xstatus
}

// fromLineRE matches the From lines these tests' files have (UW's VALID
// test is stricter; this is enough to tell them from body lines).
var fromLineRE = regexp.MustCompile(`^From \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]?[0-9] [0-9]{2}:[0-9]{2}(:[0-9]{2})? `)

// splitMbox splits mbox text at From lines that follow a blank line (or
// start the file).
func splitMbox(text string) []string {
	var msgs []string
	start := -1
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '\n')
		end := len(text)
		if j >= 0 {
			end = i + j + 1
		}
		line := text[i:end]
		if fromLineRE.MatchString(line) && (i == 0 || strings.HasSuffix(text[:i], "\n\n")) {
			if start >= 0 {
				msgs = append(msgs, text[start:i])
			}
			start = i
		}
		i = end
	}
	if start >= 0 {
		msgs = append(msgs, text[start:])
	}
	return msgs
}

// headerOf returns the value of header name in the i-th message (0-based,
// the pseudo message skipped) of an mbox text.
func headerOf(text string, i int, name string) string {
	var msgs []string
	for _, m := range splitMbox(text) {
		if !strings.Contains(m, "\nX-IMAP: ") {
			msgs = append(msgs, m)
		}
	}
	if i >= len(msgs) {
		return "<no message>"
	}
	hdr, _, _ := strings.Cut(msgs[i], "\n\n")
	for _, l := range strings.Split(hdr, "\n") {
		if v, ok := strings.CutPrefix(l, name+": "); ok {
			return strings.TrimSpace(v)
		}
		if l == name+":" {
			return ""
		}
	}
	return "<absent>"
}

// mboxOnDisk reports whether the suite runs on mbox: the parts of a test
// that check the bytes of drop files and folder files run only then.
func mboxOnDisk() bool { return format == fmtMbox }

// storedMessage is one message as the store keeps it on disk.
type storedMessage struct {
	uid  string // maildir: from imapd-uidlist ("" for a file not listed yet)
	name string // maildir: the file name in cur/ or new/
	info string // maildir: the letters after ":2," (flags, keyword slots)
	text string // the message (mbox: with From line and status headers)
}

// onDisk lists the messages of mailbox path (inbox or folder) as stored:
// mbox in file order without the pseudo message; maildir in the UID order
// of imapd-uidlist, then unlisted files in name order.
func (e *env) onDisk(path string) []storedMessage {
	e.t.Helper()
	var out []storedMessage
	if format == fmtMbox {
		for _, m := range splitMbox(e.read(path)) {
			if !strings.Contains(m, "\nX-IMAP: ") {
				out = append(out, storedMessage{text: m})
			}
		}
		return out
	}
	files := map[string]string{} // base -> dir/name
	var bases []string
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(path, sub))
		if err != nil {
			e.t.Fatal(err)
		}
		for _, de := range entries {
			base, _, _ := strings.Cut(de.Name(), maildirInfoSep)
			files[base] = filepath.Join(sub, de.Name())
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)
	uids := map[string]string{}
	var order []string
	if list, err := os.ReadFile(filepath.Join(path, "imapd-uidlist")); err == nil {
		for _, l := range strings.Split(string(list), "\n")[1:] {
			if f := strings.Fields(l); len(f) >= 4 {
				uids[f[3]] = f[0]
				order = append(order, f[3])
			}
		}
	}
	for _, b := range bases {
		if uids[b] == "" {
			order = append(order, b)
		}
	}
	for _, b := range order {
		rel, ok := files[b]
		if !ok {
			continue
		}
		_, info, _ := strings.Cut(filepath.Base(rel), maildirInfoSep+"2,")
		out = append(out, storedMessage{uid: uids[b], name: filepath.Base(rel), info: info, text: e.read(filepath.Join(path, rel))})
	}
	return out
}

// maildirInfoSep separates base and info in maildir file names.
var maildirInfoSep = map[bool]string{true: ";", false: ":"}[runtime.GOOS == "windows"]

// subjectsOn returns the Subject of every message of mailbox path as
// stored.
func (e *env) subjectsOn(path string) []string {
	e.t.Helper()
	var out []string
	for _, m := range e.onDisk(path) {
		hdr, _, _ := strings.Cut(m.text, "\n\n")
		for _, l := range strings.Split(hdr, "\n") {
			if v, ok := strings.CutPrefix(l, "Subject: "); ok {
				out = append(out, strings.TrimRight(v, "\r"))
			}
		}
	}
	return out
}

// infos is the flag letters of every message of maildir path as stored,
// comma-separated, in UID order.
func (e *env) infos(path string) string {
	e.t.Helper()
	var out []string
	for _, m := range e.onDisk(path) {
		out = append(out, m.info)
	}
	return strings.Join(out, ",")
}

// appendHeld appends messages to a mailbox a session holds, as another
// session or program does: raw at the end of an mbox, into a maildir
// with the next UIDs.
func (e *env) appendHeld(path string, msgs []mailbox.NewMessage) error {
	if format == fmtMaildir {
		_, _, err := maildir.AppendTo(path, msgs, maildir.Options{Hostname: testHost})
		return err
	}
	return mbox.AppendRaw(path, msgs, mbox.Options{UseFlock: true})
}

// uidOnDisk is the UID the store keeps for the i-th message (0-based) of
// mailbox path: X-UID in an mbox, the uid list of a maildir.
func (e *env) uidOnDisk(path string, i int) string {
	e.t.Helper()
	if format == fmtMbox {
		return headerOf(e.read(path), i, "X-UID")
	}
	if m := e.onDisk(path); i < len(m) {
		return m[i].uid
	}
	return "<no message>"
}

// snapshot is what a command that saves nothing must leave as it was: the
// mbox file's bytes, or the maildir's file names (flags) and uid list.
func (e *env) snapshot(path string) string {
	e.t.Helper()
	if format == fmtMbox {
		return e.read(path)
	}
	var b strings.Builder
	for _, m := range e.onDisk(path) {
		b.WriteString(m.name + "\n")
	}
	list, _ := os.ReadFile(filepath.Join(path, "imapd-uidlist"))
	b.Write(list)
	return b.String()
}
