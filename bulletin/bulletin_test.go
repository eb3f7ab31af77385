package bulletin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"imapd/internal/testdir"
	"imapd/mailbox"
	"imapd/mailbox/mbox"
)

// The test binary doubles as another imapd process delivering to the same
// user: BULLETIN_TEST_DELIVER=bulletin_path,dropfile.
func TestMain(m *testing.M) {
	if v := os.Getenv("BULLETIN_TEST_DELIVER"); v != "" {
		dir, drop, _ := strings.Cut(v, ",")
		if _, err := Deliver(Dirs(dir, ""), recipient(drop), appender(drop), func(string, ...any) {}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func recipient(drop string) Recipient {
	return Recipient{DropFile: drop, To: "alice@example.org", From: "Email System Administrator", Host: "example.org"}
}

// appender appends through the real mailbox code, as a session does.
func appender(drop string) func([]byte, time.Time) error {
	return func(msg []byte, _ time.Time) error {
		_, _, err := mbox.AppendTo(drop, []mailbox.NewMessage{{Body: bytes.NewReader(msg), Size: int64(len(msg)), Sender: "postmaster@example.org"}}, mbox.Options{})
		return err
	}
}

type site struct {
	t    *testing.T
	dir  string // bulletin_path
	drop string
	logs []string
	mu   sync.Mutex
}

func newSite(t *testing.T) *site {
	root := testdir.New(t)
	s := &site{t: t, dir: filepath.Join(root, "bulletins"), drop: filepath.Join(root, "alice")}
	os.Mkdir(s.dir, 0o755)
	if err := os.WriteFile(s.drop, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *site) put(name, content string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, filepath.FromSlash(name)), []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s *site) deliver(domain string) int {
	s.t.Helper()
	n, err := Deliver(Dirs(s.dir, domain), recipient(s.drop), appender(s.drop), func(f string, a ...any) {
		s.mu.Lock()
		s.logs = append(s.logs, fmt.Sprintf(f, a...))
		s.mu.Unlock()
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// subjects lists the Subject of every message in the drop file.
func (s *site) subjects() []string {
	b, _ := os.ReadFile(s.drop)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Subject: "); ok {
			out = append(out, v)
		}
	}
	return out
}

func (s *site) state() string {
	b, _ := os.ReadFile(s.drop + ".bul")
	return string(b)
}

func TestDeliverOnceInOrder(t *testing.T) {
	s := newSite(t)
	s.put("2.txt", "second\n")
	s.put("001.txt", "Subject: First!\nX-Custom: kept\n\nHello all.\n")
	s.put("readme", "not a bulletin")
	s.put("0.txt", "zero is never a bulletin number")
	if n := s.deliver(""); n != 2 {
		t.Fatalf("delivered %d", n)
	}
	if got := s.subjects(); strings.Join(got, "|") != "First!|Bulletin 2" {
		t.Errorf("subjects %q", got)
	}
	if s.state() != "* 2\n" {
		t.Errorf("state %q", s.state())
	}
	if n := s.deliver(""); n != 0 {
		t.Errorf("delivered again: %d", n)
	}
	s.put("3.txt", "third\n")
	if n := s.deliver(""); n != 1 || s.state() != "* 3\n" {
		t.Errorf("new one: %d, state %q", n, s.state())
	}
	b, _ := os.ReadFile(s.drop)
	for _, want := range []string{"X-Custom: kept", "From: Email System Administrator <postmaster@example.org>",
		"To: alice@example.org", "Message-ID: <bulletin.1.all."} {
		if !strings.Contains(string(b), want) {
			t.Errorf("drop file lacks %q:\n%s", want, b)
		}
	}
}

// An empty directory resets the number; numbering starts again at 1.
func TestEmptyDirectoryResets(t *testing.T) {
	s := newSite(t)
	s.put("5.txt", "five\n")
	s.deliver("")
	os.Remove(filepath.Join(s.dir, "5.txt"))
	s.deliver("")
	if s.state() != "* 0\n" {
		t.Errorf("after an empty directory: %q", s.state())
	}
	s.put("1.txt", "one again\n")
	if n := s.deliver(""); n != 1 {
		t.Errorf("after the reset: %d", n)
	}
	// A missing directory changes nothing.
	os.RemoveAll(s.dir)
	s.deliver("")
	if s.state() != "* 1\n" {
		t.Errorf("missing directory: %q", s.state())
	}
}

// A virtual domain's users also get its directory's bulletins, numbered
// apart.
func TestDomainBulletins(t *testing.T) {
	s := newSite(t)
	s.put("1.txt", "all\n")
	os.Mkdir(filepath.Join(s.dir, "shop.example"), 0o755)
	s.put("shop.example/1.txt", "Subject: shop one\n\nfor the shop\n")
	s.put("shop.example/2.txt", "Subject: shop two\n\nfor the shop\n")
	if n := s.deliver("Shop.Example"); n != 3 {
		t.Fatalf("delivered %d", n)
	}
	if s.state() != "* 1\nshop.example 2\n" {
		t.Errorf("state %q", s.state())
	}
	if d := Dirs(s.dir, "../etc"); len(d) != 1 {
		t.Errorf("a domain with a path in it: %v", d)
	}
}

// Malformed files are logged and skipped; the others still come.
func TestMalformedSkipped(t *testing.T) {
	s := newSite(t)
	s.put("1.txt", "")
	s.put("2.txt", "nul\x00byte\n")
	s.put("3.txt", strings.Repeat("x", MaxSize+1))
	s.put("4.txt", "fine\n")
	os.Mkdir(filepath.Join(s.dir, "5.txt"), 0o755)
	if n := s.deliver(""); n != 1 {
		t.Fatalf("delivered %d", n)
	}
	if len(s.logs) != 3 {
		t.Errorf("logged %q", s.logs)
	}
	if s.state() != "* 4\n" {
		t.Errorf("state %q", s.state())
	}
	if got := s.subjects(); len(got) != 1 {
		t.Errorf("subjects %q", got)
	}
}

func TestBuild(t *testing.T) {
	s := newSite(t)
	r := recipient(s.drop)
	for _, c := range []struct {
		name, file string
		has, lacks []string
	}{
		{"plain", "Note: the server stops tonight.\nThanks\n",
			[]string{"Subject: Bulletin 9\r\n", "\r\n\r\nNote: the server stops tonight.\r\nThanks\r\n"}, nil},
		{"headers", "From: Admin <admin@example.org>\nSubject: Hi\n  folded\nDate: Mon, 1 Jan 2026 00:00:00 +0000\n\nbody\n",
			[]string{"From: Admin <admin@example.org>\r\n", "Subject: Hi\r\n  folded\r\n", "To: alice@example.org\r\n"},
			[]string{"Email System Administrator", "Bulletin 9", "+0000\r\nDate"}},
		{"utf-8", "Grüße\n", []string{"Content-Type: text/plain; charset=utf-8\r\n", "MIME-Version: 1.0\r\n"}, nil},
		{"headers only, no empty line", "Subject: x\n", []string{"Subject: Bulletin 9\r\n", "\r\n\r\nSubject: x\r\n"}, nil},
	} {
		s.put("9.txt", c.file)
		msg, _, err := Build(filepath.Join(s.dir, "9.txt"), 9, "*", r)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		for _, h := range c.has {
			if !strings.Contains(string(msg), h) {
				t.Errorf("%s: lacks %q:\n%s", c.name, h, msg)
			}
		}
		for _, h := range c.lacks {
			if strings.Contains(string(msg), h) {
				t.Errorf("%s: has %q:\n%s", c.name, h, msg)
			}
		}
	}
	if got := FromHeader(`Admin "Team"`, "h"); got != `"Admin \"Team\"" <postmaster@h>` {
		t.Errorf("quoted from: %s", got)
	}
	if got := FromHeader("news@example.org", "h"); got != "news@example.org" {
		t.Errorf("address from: %s", got)
	}
}

// Concurrent logins of one user, in goroutines and in other processes:
// each bulletin is delivered exactly once.
func TestConcurrentLoginsDeliverOnce(t *testing.T) {
	s := newSite(t)
	for i := 1; i <= 5; i++ {
		s.put(fmt.Sprintf("%d.txt", i), fmt.Sprintf("Subject: b%d\n\nbody %d\n", i, i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "BULLETIN_TEST_DELIVER="+s.dir+","+s.drop)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("%v %s", err, out)
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := Deliver(Dirs(s.dir, ""), recipient(s.drop), appender(s.drop), func(string, ...any) {}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := s.subjects(); strings.Join(got, "|") != "b1|b2|b3|b4|b5" {
		t.Errorf("subjects %q", got)
	}
}

// hide_old_bulls: a user without a state file starts at the newest
// bulletin; later ones come as usual.
func TestHideOld(t *testing.T) {
	s := newSite(t)
	s.put("1.txt", "one\n")
	s.put("4.txt", "four\n")
	r := recipient(s.drop)
	r.HideOld = true
	if n, err := Deliver(Dirs(s.dir, ""), r, appender(s.drop), func(string, ...any) {}); n != 0 || err != nil {
		t.Fatalf("new user: %d %v", n, err)
	}
	if s.state() != "* 4\n" {
		t.Errorf("state %q", s.state())
	}
	s.put("5.txt", "five\n")
	if n, _ := Deliver(Dirs(s.dir, ""), r, appender(s.drop), func(string, ...any) {}); n != 1 {
		t.Errorf("a new bulletin: %d", n)
	}
}
