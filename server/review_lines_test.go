package server

import (
	"bufio"
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// tcpConn is a conn over a real TCP socket, and the client's end of it.
func tcpConn(t *testing.T, opts *Options) (c *conn, raw, cl net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- s
	}()
	cl, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	raw, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { raw.Close() })
	return newConn(raw, opts, nil), raw, cl
}

// expire makes the deadline the socket still has from go-imap's last
// response one that has passed, as it has once the client paused longer
// than go-imap's 30 s (output does not know: it applies deadlines lazily).
func expire(raw net.Conn) { raw.SetWriteDeadline(time.Now().Add(-time.Second)) }

// TestReviewUntaggedAfterIdle: go-imap bounds each response's write with a
// deadline it sets before and clears after (conn.SetWriteDeadline), which
// output gives the socket only when a write of go-imap's goes out: after
// the last response, the socket keeps that deadline. A line the session
// writes between two commands (conn.Untagged: the "* FLAGS" of a keyword a
// STORE defines) long after the previous answer must still go out; it
// was written under the old deadline, already past, and lost (over TLS,
// a write timeout breaks the connection for good).
func TestReviewUntaggedAfterIdle(t *testing.T) {
	c, raw, cl := tcpConn(t, &Options{})
	// What go-imap does around each response.
	respond := func(s string) {
		t.Helper()
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write([]byte(s)); err != nil {
			t.Fatalf("write %q: %v", s, err)
		}
		c.SetWriteDeadline(time.Time{})
	}
	respond("* OK ready\r\n")
	respond("a1 OK SELECT completed\r\n")
	expire(raw) // the client idles
	c.Untagged(`* FLAGS (\Seen NewKw)`)
	respond("a2 OK STORE completed\r\n")

	cl.SetReadDeadline(time.Now().Add(clientLimit))
	br := bufio.NewReader(cl)
	var got []string
	for len(got) == 0 || got[len(got)-1] != "a2 OK STORE completed\r\n" {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, got)
		}
		got = append(got, l)
	}
	want := []string{"* OK ready\r\n", "a1 OK SELECT completed\r\n", "* FLAGS (\\Seen NewKw)\r\n", "a2 OK STORE completed\r\n"}
	if len(got) != len(want) || got[2] != want[2] {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestReviewSTARTTLSAfterIdle: STARTTLS from a client that paused after
// go-imap's last response: the OK and the handshake are written under
// deadlines of their own, not the past one of that response.
func TestReviewSTARTTLSAfterIdle(t *testing.T) {
	cert, pool := testCert(t, "idle")
	c, raw, cl := tcpConn(t, &Options{TLS: NewTLS(cert, 0)})
	c.SetWriteDeadline(time.Now().Add(30 * time.Second)) // as go-imap around its greeting
	if _, err := c.Write([]byte("* OK ready\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetWriteDeadline(time.Time{})
	expire(raw) // the client idles
	done := make(chan error, 1)
	go func() { done <- c.startTLS("a1") }()

	cl.SetReadDeadline(time.Now().Add(clientLimit))
	br := bufio.NewReader(cl)
	for _, want := range []string{"* OK ready\r\n", "a1 OK Begin TLS negotiation now\r\n"} {
		l, err := br.ReadString('\n')
		if err != nil || l != want {
			t.Fatalf("got %q, %v; want %q", l, err, want)
		}
	}
	tc := tls.Client(cl, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	tc.SetDeadline(time.Now().Add(clientLimit))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
}
