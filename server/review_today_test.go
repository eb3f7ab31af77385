package server

// Hostile tests of what changed in the server on one day: the guard's
// small/pooled read buffers (lines and literals across their edges, a
// byte per read), and TLS loaded after the greeting (TLSLater) raced by
// the client's first commands, a failed load, and a client that leaves
// before it finishes. Real sockets throughout.

import (
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
)

// Command lines and literals of every length around the small (256) and
// big (4096) buffers' sizes, sent at once (many commands per read) and a
// byte per write, on connections at the same time (the big buffers come
// from one pool): each is answered once, in order.
func TestReviewGuardBufferEdges(t *testing.T) {
	_, addr := guardEnv(t)
	var lens []int
	for _, edge := range []int{smallRead, bigRead, 2 * bigRead} {
		for d := -6; d <= 6; d++ {
			lens = append(lens, edge+d)
		}
	}
	for _, chunk := range []int{0, 1, 255, 4095} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			t.Parallel() // connections share the pool of big buffers
			c := loggedIn(t, addr)
			var all strings.Builder
			var tags []string
			for i, n := range lens {
				// A LIST whose line is n bytes long (a long pattern
				// that matches nothing).
				tag := fmt.Sprintf("n%d", i)
				pad := n - len(tag) - len(` LIST "" ""`+"\r\n")
				fmt.Fprintf(&all, "%s LIST \"\" \"%s\"\r\n", tag, strings.Repeat("q", max(pad, 0)))
				tags = append(tags, tag+" OK")
				// A STATUS whose mailbox name is a literal of n bytes
				// (none such: NO), its {n+} at the end of a read.
				tag = fmt.Sprintf("s%d", i)
				name := strings.Repeat("m", n)
				fmt.Fprintf(&all, "%s STATUS {%d+}\r\n%s (MESSAGES)\r\n", tag, len(name), name)
				tags = append(tags, tag+" NO")
			}
			all.WriteString("z LOGOUT\r\n")
			if chunk == 1 && testing.Short() {
				t.Skip("a byte per write")
			}
			sendChunks(c, all.String(), chunk)
			for _, want := range tags {
				tag, _, _ := strings.Cut(want, " ")
				r := c.Collect(tag)
				if !strings.HasPrefix(tag+" "+r.Tagged, want) {
					t.Fatalf("%.40s: %q", want, r.Tagged)
				}
			}
			r := c.Collect("z")
			if r.Status != "OK" {
				t.Errorf("LOGOUT: %q", r.Lines())
			}
			c.ExpectEOF()
		})
	}
}

// TLSLater that has not finished when the client's first commands come:
// CAPABILITY and STARTTLS wait for it (no STARTTLS-less answer, no byte
// sent after STARTTLS in clear runs); a client gone before it finishes
// leaves no session behind; a load that fails (a broken certificate gives
// nil) offers no STARTTLS and LOGIN still works.
// lazyTLS connects to a server whose TLS load waits for gate to close and
// then gives the certificate (ok) or nothing (a broken one), and reads the
// greeting.
func lazyTLS(t *testing.T, ok bool) (*env, *client, *x509.CertPool, chan struct{}) {
	t.Helper()
	e, opts, pool := tlsEnv(t, false)
	srv := opts.TLS
	if !ok {
		srv = nil
	}
	opts.TLS = nil
	gate := make(chan struct{})
	opts.TLSLater = func() *TLS { <-gate; return srv }
	c, _ := connect(t, "tcp", opts)
	c.Expect(greeting)
	return e, c, pool, gate
}

func TestReviewTLSLaterRaced(t *testing.T) {
	t.Run("starttls-first", func(t *testing.T) {
		e, c, pool, gate := lazyTLS(t, true)
		c.SendRaw("c0 CAPABILITY\r\ns1 STARTTLS\r\nx1 LOGIN alice pw\r\n")
		close(gate)
		r := c.Collect("c0")
		if len(r.Untagged) != 1 || !strings.Contains(r.Untagged[0], " STARTTLS") {
			t.Errorf("CAPABILITY while loading: %q", r.Lines())
		}
		if r := c.Collect("s1"); r.Tagged != "OK Begin TLS negotiation now" || len(r.Untagged) != 0 {
			t.Fatalf("STARTTLS: %q", r.Lines())
		}
		c, _ = upgrade(t, c, pool)
		afterTLS(t, e, c)
	})
	t.Run("gone-first", func(t *testing.T) {
		e, c, _, gate := lazyTLS(t, true)
		c.SendRaw("s1 STARTTLS\r\n")
		c.Close()
		close(gate)
		e.waitClosed(t)
	})
	t.Run("broken", func(t *testing.T) {
		e, c, _, gate := lazyTLS(t, false)
		c.SendRaw("s1 STARTTLS\r\n")
		close(gate)
		if r := c.Collect("s1"); r.Tagged != "BAD STARTTLS not available" {
			t.Errorf("STARTTLS: %q", r.Lines())
		}
		login(t, c)
		c.Send("z LOGOUT")
		c.Collect("z")
		c.ExpectEOF()
		e.waitClosed(t)
	})
}
