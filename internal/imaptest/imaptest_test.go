package imaptest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// script serves one connection on 127.0.0.1: for every line the client
// sends, reply gives the bytes to write back ("" writes nothing); a reply
// of "CLOSE" closes the connection.
func script(t *testing.T, greeting string, reply func(line string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte(greeting))
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			out := reply(strings.TrimSuffix(line, "\r\n"))
			if out == "CLOSE" {
				return
			}
			c.Write([]byte(out))
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

func TestCommandAndLiterals(t *testing.T) {
	addr := script(t, "* OK hello\r\n", func(line string) string {
		tag, cmd, _ := strings.Cut(line, " ")
		switch cmd {
		case "FETCH":
			return "* 1 FETCH (BODY[] {5}\r\nab\r\nc UID 7)\r\n* 2 FETCH (BINARY[] ~{2}\r\n{1} X {0}\r\n)\r\n" + tag + " OK done\r\n"
		case "BAD":
			return tag + " BAD no\r\n"
		case "LOGOUT":
			return "* BYE bye\r\n" + tag + " OK LOGOUT completed\r\n"
		}
		return "CLOSE"
	})
	c := Dial(t, addr)
	if g := c.Greeting("* OK"); g != "* OK hello" {
		t.Errorf("greeting %q", g)
	}
	r := c.OK("FETCH")
	if r.Tag != "A001" {
		t.Errorf("tag %q", r.Tag)
	}
	r.Exactly(t, "* 1 FETCH (BODY[] {5}\r\nab\r\nc UID 7)", "* 2 FETCH (BINARY[] ~{2}\r\n{1} X {0}\r\n)")
	r.TaggedIs(t, "OK done")
	r.Has(t, "* 1 FETCH (BODY[] {5}\r\nab\r\nc UID 7)")
	r.Lacks(t, "* 3")
	if got := strings.Join(r.Lines(), "|"); !strings.HasSuffix(got, "|A001 OK done") {
		t.Errorf("lines %q", got)
	}
	c.BAD("BAD").TaggedHas(t, "BAD n")
	c.Send("x LOGOUT")
	c.Expect("* BYE bye", "x OK LOGOUT completed")
	c.Send("y QUIT")
	c.ExpectEOF()
}

func TestTaggedAndWaitFor(t *testing.T) {
	addr := script(t, "* OK\r\n", func(line string) string {
		tag, _, _ := strings.Cut(line, " ")
		return "* 3 EXISTS\r\n+ idling\r\n* 4 EXISTS\r\n" + tag + " OK x\r\n"
	})
	c := Dial(t, addr)
	c.TagPrefix = "u"
	c.Expect("* OK")
	if tag := c.NextTag(); tag != "u001" {
		t.Errorf("NextTag %q", tag)
	}
	c.Send("t IDLE")
	if before := c.WaitFor("+ idling"); len(before) != 1 || before[0] != "* 3 EXISTS" {
		t.Errorf("before the continuation: %q", before)
	}
	r := c.Collect("t")
	r.Exactly(t, "* 4 EXISTS")
	r = c.Tagged("given", "NOOP")
	if r.Tag != "given" || r.Status != "OK" {
		t.Errorf("Tagged: %+v", r)
	}
	c.Close()
}

func TestReadToEOF(t *testing.T) {
	addr := script(t, "* OK\r\n* BYE going\r\npartial", func(string) string { return "" })
	c := Dial(t, addr)
	c.Send("a NOOP") // no answer
	c.NetConn().(*net.TCPConn).CloseWrite()
	if got := c.ReadToEOF(); strings.Join(got, "|") != "* OK|* BYE going|partial" {
		t.Errorf("ReadToEOF: %q", got)
	}
}

// recorder is a testing.TB whose Fatalf ends only the goroutine that
// calls it, so that a failure of the client itself can be checked.
type recorder struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.msg = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Helper() {}

// fails runs f with a recorder and returns its Fatalf message ("" if none).
func fails(t *testing.T, f func(tb testing.TB)) string {
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	return rec.msg
}

func TestFailures(t *testing.T) {
	addr := script(t, "* OK no crlf\n", func(line string) string { return "" })
	msg := fails(t, func(tb testing.TB) {
		c := Dial(tb, addr)
		c.Response()
	})
	if !strings.Contains(msg, "line without CRLF") {
		t.Errorf("bare LF: %q", msg)
	}

	// A server that never answers: the deadline fails the test.
	addr = script(t, "", func(line string) string { return "" })
	msg = fails(t, func(tb testing.TB) {
		c := Dial(tb, addr)
		c.Timeout = 50 * time.Millisecond
		c.OK("NOOP")
	})
	if !strings.Contains(msg, "timeout") {
		t.Errorf("silent server: %q", msg)
	}

	addr = script(t, "* OK\r\n", func(line string) string { return "* NO other\r\n" + line[:1] + " NO nope\r\n" })
	msg = fails(t, func(tb testing.TB) {
		c := Dial(tb, addr)
		c.Expect("* OK")
		c.Send("a NOOP")
		c.Expect("* NO something else")
	})
	if !strings.Contains(msg, `want "* NO something else"`) {
		t.Errorf("Expect mismatch: %q", msg)
	}
}

// Pipes: a "server" goroutine on two os.Pipe pairs, as an inetd-mode
// imapd sees its stdin and stdout.
func TestPipes(t *testing.T) {
	toServer, fromClient, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	toClient, fromServer, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer fromServer.Close()
		defer toServer.Close()
		fromServer.WriteString("* OK pipes\r\n")
		r := bufio.NewReader(toServer)
		line, _ := r.ReadString('\n')
		tag, _, _ := strings.Cut(line, " ")
		fromServer.WriteString("* BYE bye\r\n" + tag + " OK LOGOUT completed\r\n")
	}()
	c := Pipes(t, toClient, fromClient)
	c.Expect("* OK pipes")
	r := c.OK("LOGOUT")
	r.Exactly(t, "* BYE bye")
	c.ExpectEOF()
	if a := c.NetConn().RemoteAddr(); a.Network() != "pipe" {
		t.Errorf("remote address %v", a)
	}
	<-done
}
