package spawn

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
)

// openFiles counts this process's descriptors (-1 where /proc is not).
func openFiles(t *testing.T) int {
	des, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(des)
}

// Many sessions through a passed socket leave no descriptor behind (the
// held copy, the File copy, the connection), whether the client or the
// child ends them.
func TestReviewNoDescriptorLeak(t *testing.T) {
	if !CanPassSocket || runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/fd of a passed socket")
	}
	g := &Group{}
	run := func(i int) {
		c, ch, _ := start(t, g, "echo")
		c.Send("ECHO x")
		c.Expect("ECHO x")
		if i%2 == 0 {
			c.Close()
		} else {
			ch.Cmd.Process.Kill()
		}
		ch.Wait()
		c.Close()
	}
	run(0) // first use makes what lives on (the poller's descriptors)
	before := openFiles(t)
	const n = 60
	for i := range n {
		run(i)
	}
	if after := openFiles(t); after > before {
		t.Errorf("descriptors: %d before %d sessions, %d after", before, n, after)
	}
	if st := g.Shutdown(context.Background()); st != (Stats{}) {
		t.Errorf("shutdown with nothing running: %+v", st)
	}
}

// Shutdown with no grace cuts every child's socket, each one sees end of
// input, and the clients see end of file; later Starts are refused.
func TestReviewShutdownCutsMany(t *testing.T) {
	for _, relay := range modes() {
		t.Run(name(relay), func(t *testing.T) {
			g := &Group{Relay: relay}
			type one struct {
				c      interface{ ExpectEOF() }
				stderr interface{ String() string }
			}
			var all []one
			const n = 8
			for range n {
				c, _, stderr := start(t, g, "echo")
				all = append(all, one{c, stderr})
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if st := g.Shutdown(ctx); st != (Stats{Cut: n}) {
				t.Errorf("shutdown: %+v, want %d cut", st, n)
			}
			for i, o := range all {
				o.c.ExpectEOF()
				if !strings.Contains(o.stderr.String(), "child: end of input") {
					t.Errorf("child %d stderr: %q", i, o.stderr.String())
				}
			}
			_, sc := connPair(t)
			cmd, _ := childCmd(t, "echo")
			if _, err := g.Start(sc, cmd); err != ErrClosed {
				t.Errorf("Start after Shutdown: %v", err)
			}
		})
	}
}
