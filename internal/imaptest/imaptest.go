// Package imaptest is the raw IMAP client of the module's tests: every test
// that talks to a server (package server, session, cmd/imapdsvc, e2e) and
// asserts on the exact bytes it sends uses a Conn.
//
// A Conn wraps a connection (Dial for TCP, Pipes for a child's stdin and
// stdout, New for any other net.Conn). It writes lines as given and reads responses: a
// response is one line, or a line ending in a literal {n} (or ~{n}) plus
// the literal's n bytes and the rest of the response, up to the final CRLF.
// Responses are returned exactly as received except for that final CRLF;
// a line that does not end in CRLF fails the test. Literals stay inline,
// preceded by the CRLF of their line.
//
// Commands go with an automatic tag (Command: "A001", "A002", ...) or a
// given one (Tagged). The Result holds the untagged responses and the
// tagged reply; its methods check them (Has, Lacks, Exactly, TaggedIs,
// TaggedHas). Expect checks that the next responses are exactly the given
// ones; ExpectEOF that the server closed the connection; WaitFor skips to a
// given response (unsolicited data, IDLE).
//
// Every read and write has a deadline (Timeout, DefaultTimeout unless set):
// a server that does not answer fails the test instead of hanging it. No
// assertion depends on time; the deadline only bounds a broken test.
//
// All methods that fail the test call t.Fatal and so must run in the
// test's goroutine; the Try variants return errors instead.
package imaptest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// DefaultTimeout bounds every read and write of a Conn whose Timeout is 0.
const DefaultTimeout = 60 * time.Second

// Conn is a raw IMAP connection of a test.
type Conn struct {
	// Timeout bounds each read and write (DefaultTimeout when 0).
	Timeout time.Duration
	// TagPrefix starts the automatic tags ("A" when empty).
	TagPrefix string

	t  testing.TB
	nc net.Conn
	r  *bufio.Reader
	n  int
}

// Dial connects to a TCP address. It does not read the greeting (see
// Greeting and Expect).
func Dial(t testing.TB, addr string) *Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return New(t, nc)
}

// New wraps a connection; it is closed when the test ends. The connection
// must support deadlines (os.Pipe files do, wrapped in a net.Conn).
func New(t testing.TB, nc net.Conn) *Conn {
	t.Cleanup(func() { nc.Close() })
	return &Conn{t: t, nc: nc, r: bufio.NewReader(nc)}
}

// Pipes wraps the two pipes of a server on stdin/stdout (inetd mode): r
// reads what the server writes, w writes what it reads. Both are closed
// when the test ends.
func Pipes(t testing.TB, r, w *os.File) *Conn {
	return New(t, &pipeConn{r: r, w: w})
}

// pipeConn is a net.Conn made of two pipes; its deadlines are the pipes'
// (where the OS cannot set one, the read is not bounded).
type pipeConn struct {
	r, w *os.File
}

// pipeAddr is the address of either end of a pipeConn.
type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

func (p *pipeConn) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *pipeConn) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p *pipeConn) Close() error {
	err := p.w.Close()
	if e := p.r.Close(); err == nil {
		err = e
	}
	return err
}
func (p *pipeConn) LocalAddr() net.Addr  { return pipeAddr{} }
func (p *pipeConn) RemoteAddr() net.Addr { return pipeAddr{} }
func (p *pipeConn) SetDeadline(t time.Time) error {
	p.r.SetReadDeadline(t)
	p.w.SetWriteDeadline(t)
	return nil
}
func (p *pipeConn) SetReadDeadline(t time.Time) error  { return p.r.SetReadDeadline(t) }
func (p *pipeConn) SetWriteDeadline(t time.Time) error { return p.w.SetWriteDeadline(t) }

// NetConn is the underlying connection (its addresses, Close, raw writes).
func (c *Conn) NetConn() net.Conn { return c.nc }

// Buffered is how many bytes were read from the connection and not yet
// returned as responses (after a STARTTLS OK it must be 0).
func (c *Conn) Buffered() int { return c.r.Buffered() }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

func (c *Conn) deadline() time.Time {
	d := c.Timeout
	if d == 0 {
		d = DefaultTimeout
	}
	return time.Now().Add(d)
}

// Send writes line and CRLF.
func (c *Conn) Send(line string) {
	c.t.Helper()
	c.SendRaw(line + "\r\n")
}

// SendRaw writes s as it is (literal data, partial lines, hostile bytes).
func (c *Conn) SendRaw(s string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(c.deadline())
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatalf("send %.200q: %v", s, err)
	}
}

// literalRE finds a literal announced at the end of a line.
var literalRE = regexp.MustCompile(`~?\{(\d+)\}$`)

// maxLiteral bounds a literal a test client accepts.
const maxLiteral = 1 << 30

// TryResponse reads one response (see the package comment). At the end of
// the connection it returns what it read and io.EOF.
func (c *Conn) TryResponse() (string, error) {
	c.nc.SetReadDeadline(c.deadline())
	var b strings.Builder
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return b.String() + line, err
		}
		line, ok := strings.CutSuffix(line, "\r\n")
		if !ok {
			return b.String() + line, fmt.Errorf("line without CRLF: %q", line)
		}
		b.WriteString(line)
		m := literalRE.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(line, "+ ") {
			return b.String(), nil
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n > maxLiteral {
			return b.String(), fmt.Errorf("literal of %s bytes", m[1])
		}
		lit := make([]byte, n)
		if _, err := io.ReadFull(c.r, lit); err != nil {
			return b.String(), fmt.Errorf("read literal of %d bytes: %w", n, err)
		}
		b.WriteString("\r\n")
		b.Write(lit)
	}
}

// Response reads one response; an error fails the test.
func (c *Conn) Response() string {
	c.t.Helper()
	s, err := c.TryResponse()
	if err != nil {
		c.t.Fatalf("read response: %v (got %.200q)", err, s)
	}
	return s
}

// Greeting reads the greeting and checks that it starts with prefix
// (e.g. "* OK"); it returns it.
func (c *Conn) Greeting(prefix string) string {
	c.t.Helper()
	g := c.Response()
	if !strings.HasPrefix(g, prefix) {
		c.t.Fatalf("greeting %q, want it to start %q", g, prefix)
	}
	return g
}

// Expect reads one response per argument; each must equal it exactly.
func (c *Conn) Expect(want ...string) {
	c.t.Helper()
	for _, w := range want {
		if got := c.Response(); got != w {
			c.t.Fatalf("got %.300q, want %.300q", got, w)
		}
	}
}

// ExpectEOF reads the end of the connection: the server must close it
// (cleanly or with a reset) without sending anything more.
func (c *Conn) ExpectEOF() {
	c.t.Helper()
	s, err := c.TryResponse()
	if s != "" || !isEnd(err) {
		c.t.Fatalf("got %.200q, %v; want the connection closed", s, err)
	}
}

// ReadToEOF reads responses until the server closes the connection (or
// resets it) and returns them; an unfinished last response is included.
func (c *Conn) ReadToEOF() []string {
	c.t.Helper()
	var got []string
	for {
		s, err := c.TryResponse()
		if s != "" {
			got = append(got, s)
		}
		if err == nil {
			continue
		}
		if isEnd(err) {
			return got
		}
		c.t.Fatalf("waiting for the connection to close: %v (got %q)", err, got)
	}
}

// isEnd reports the end of a connection: end of file, or a reset.
func isEnd(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		err != nil && strings.Contains(err.Error(), "connection reset")
}

// WaitFor reads responses until one equals line and returns those before
// it.
func (c *Conn) WaitFor(line string) []string {
	c.t.Helper()
	var before []string
	for {
		got, err := c.TryResponse()
		if err != nil {
			c.t.Fatalf("waiting for %q: %v (got %q)", line, err, before)
		}
		if got == line {
			return before
		}
		before = append(before, got)
	}
}

// NextTag returns the next automatic tag.
func (c *Conn) NextTag() string {
	c.n++
	p := c.TagPrefix
	if p == "" {
		p = "A"
	}
	return fmt.Sprintf("%s%03d", p, c.n)
}

// Result is what one command got back.
type Result struct {
	Tag      string
	Untagged []string // every response before the tagged one, in order, without the final CRLF
	Tagged   string   // the tagged reply without tag and CRLF, e.g. "OK [READ-WRITE] SELECT completed"
	Status   string   // OK, NO or BAD
}

// Lines are all the responses, the tagged one as sent ("tag text").
func (r *Result) Lines() []string {
	return append(slices.Clone(r.Untagged), r.Tag+" "+r.Tagged)
}

// Command sends "TAG command" with the next automatic tag (command is
// format and args, as fmt.Sprintf) and reads up to the tagged reply.
func (c *Conn) Command(format string, args ...any) *Result {
	c.t.Helper()
	return c.Tagged(c.NextTag(), fmt.Sprintf(format, args...))
}

// Tagged sends "tag command" and reads up to the tagged reply.
func (c *Conn) Tagged(tag, command string) *Result {
	c.t.Helper()
	c.Send(tag + " " + command)
	return c.Collect(tag)
}

// Collect reads responses up to the one tagged tag (for a command sent
// with Send or SendRaw).
func (c *Conn) Collect(tag string) *Result {
	c.t.Helper()
	r := &Result{Tag: tag}
	for {
		s, err := c.TryResponse()
		if err != nil {
			c.t.Fatalf("reading the reply to %s: %v (got %.200q after %q)", tag, err, s, r.Untagged)
		}
		if rest, ok := strings.CutPrefix(s, tag+" "); ok {
			r.Tagged = rest
			r.Status, _, _ = strings.Cut(rest, " ")
			return r
		}
		r.Untagged = append(r.Untagged, s)
	}
}

// Want sends a command (as Command) whose tagged reply must have status
// (OK, NO or BAD); another fails the test at once.
func (c *Conn) Want(status, format string, args ...any) *Result {
	c.t.Helper()
	r := c.Command(format, args...)
	if r.Status != status {
		c.t.Fatalf("%.200s: want %s, got %q\nuntagged: %q", fmt.Sprintf(format, args...), status, r.Tagged, r.Untagged)
	}
	return r
}

// OK sends a command that must succeed.
func (c *Conn) OK(format string, args ...any) *Result {
	c.t.Helper()
	return c.Want("OK", format, args...)
}

// NO sends a command that must be refused with NO.
func (c *Conn) NO(format string, args ...any) *Result {
	c.t.Helper()
	return c.Want("NO", format, args...)
}

// BAD sends a command that must be refused with BAD.
func (c *Conn) BAD(format string, args ...any) *Result {
	c.t.Helper()
	return c.Want("BAD", format, args...)
}

// Has fails the test unless every line is among the untagged responses.
func (r *Result) Has(t testing.TB, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !slices.Contains(r.Untagged, l) {
			t.Errorf("missing untagged %q in %q", l, r.Untagged)
		}
	}
}

// Lacks fails the test if any untagged response starts with prefix.
func (r *Result) Lacks(t testing.TB, prefix string) {
	t.Helper()
	for _, l := range r.Untagged {
		if strings.HasPrefix(l, prefix) {
			t.Errorf("unexpected untagged %q", l)
		}
	}
}

// Exactly fails the test unless the untagged responses are lines, in
// order.
func (r *Result) Exactly(t testing.TB, lines ...string) {
	t.Helper()
	if !slices.Equal(r.Untagged, lines) {
		t.Errorf("untagged responses:\n got %q\nwant %q", r.Untagged, lines)
	}
}

// TaggedIs fails the test unless the tagged reply (without the tag) is
// want.
func (r *Result) TaggedIs(t testing.TB, want string) {
	t.Helper()
	if r.Tagged != want {
		t.Errorf("tagged reply %q, want %q", r.Tagged, want)
	}
}

// TaggedHas fails the test unless the tagged reply (without the tag)
// starts with prefix.
func (r *Result) TaggedHas(t testing.TB, prefix string) {
	t.Helper()
	if !strings.HasPrefix(r.Tagged, prefix) {
		t.Errorf("tagged reply %q, want it to start %q", r.Tagged, prefix)
	}
}
