package server

import (
	"bufio"
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// TestReviewUntaggedAfterIdle: go-imap bounds each response's write with a
// deadline it sets before and clears after (conn.SetWriteDeadline), which
// output gives the socket only when a write of go-imap's goes out: after
// the last response, the socket keeps that deadline. A line the session
// writes between two commands (conn.Untagged: the "* FLAGS" of a keyword a
// STORE defines) long after the previous answer must still go out; it
// was written under the old deadline, already past, and lost (over TLS,
// a write timeout breaks the connection for good).
func TestReviewUntaggedAfterIdle(t *testing.T) {
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
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	raw, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer raw.Close()
	c := newConn(raw, &Options{}, nil)

	// What go-imap does around each response, with a deadline short
	// enough to pass while the client is idle (go-imap's is 30 s).
	var last time.Time
	respond := func(s string) {
		t.Helper()
		last = time.Now().Add(50 * time.Millisecond)
		c.SetWriteDeadline(last)
		if _, err := c.Write([]byte(s)); err != nil {
			t.Fatalf("write %q: %v", s, err)
		}
		c.SetWriteDeadline(time.Time{})
	}
	respond("* OK ready\r\n")
	respond("a1 OK SELECT completed\r\n")
	// The client idles past the deadline of the last answer (waiting for
	// the clock, not for another goroutine).
	for time.Now().Before(last.Add(10 * time.Millisecond)) {
		time.Sleep(10 * time.Millisecond)
	}
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
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	raw, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer raw.Close()
	cert, pool := testCert(t, "idle")
	c := newConn(raw, &Options{TLS: NewTLS(cert, 0)}, nil)

	last := time.Now().Add(50 * time.Millisecond)
	c.SetWriteDeadline(last) // as go-imap around its greeting
	if _, err := c.Write([]byte("* OK ready\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetWriteDeadline(time.Time{})
	for time.Now().Before(last.Add(10 * time.Millisecond)) {
		time.Sleep(10 * time.Millisecond)
	}
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
