// Package spawn runs one child process per connection, the connection as
// the child's standard input and output, as inetd does. `imapd -listen`
// (as root, when sessions become their user) and imapdsvc (every
// connection) start their session processes through a Group.
//
// A child gets the socket itself (a duplicate descriptor: nothing is
// copied, and the child can ask the socket who the client is) or, with
// Relay, two pipes that the group copies to and from the connection (on
// Windows a socket cannot be a child's standard input through os/exec;
// CanPassSocket says whether it can here). Every child starts in its own
// process group (on Windows also without a console window): a Ctrl-C in
// the parent's terminal reaches the parent only, which stops the children
// itself.
//
// Shutdown ends them all in steps: SIGTERM at once when Term is set (unix;
// an imapd session saves and says BYE), then the grace period its context
// gives, then every connection is cut (the child reads end of file, saves
// and exits), CutWait more, then what still runs is killed.
package spawn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"imapd/platform"
)

// CanPassSocket says whether a socket can be a child's standard input
// here: Go cannot do it on Windows (TCPConn.File is not supported), and
// there a Group relays.
const CanPassSocket = runtime.GOOS != "windows"

// Defaults of a Group's bounds.
const (
	// DefaultCutWait is how long a child may run after its connection was
	// cut before it is killed.
	DefaultCutWait = 5 * time.Second
	// FlushWait bounds the wait for a relayed child's last output once it
	// has exited (something it started may hold its stdout open).
	FlushWait = 5 * time.Second
)

// ErrClosed is Start's error once Shutdown has begun.
var ErrClosed = errors.New("shutting down: no new session processes")

// Logger receives the group's own events (cuts and kills at shutdown).
type Logger interface {
	Infof(format string, args ...any)
	Errorf(format string, args ...any)
}

// Group is a set of children, one per connection. Set its fields before
// the first Start; the zero Group passes sockets and neither signals nor
// logs.
type Group struct {
	Relay   bool          // pipes instead of the socket (always on where !CanPassSocket)
	Term    bool          // Shutdown sends SIGTERM first
	CutWait time.Duration // DefaultCutWait when 0
	Log     Logger        // may be nil

	mu       sync.Mutex
	closing  bool
	children map[*Child]struct{}
	wg       sync.WaitGroup
}

// socketFile duplicates the connection's socket for the child.
func socketFile(c net.Conn) (*os.File, error) {
	f, ok := c.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, fmt.Errorf("%T has no file descriptor", c)
	}
	return f.File()
}

// shutdownSocket shuts the socket down in both directions, for the child
// too: its next read sees end of file.
func shutdownSocket(c net.Conn) {
	type halfCloser interface {
		CloseRead() error
		CloseWrite() error
	}
	if h, ok := c.(halfCloser); ok {
		h.CloseRead()
		h.CloseWrite()
	} else {
		c.Close()
	}
}

// Child is one running child and its connection.
type Child struct {
	Conn net.Conn
	Cmd  *exec.Cmd

	cut  func()
	once sync.Once
	done chan struct{}
	err  error
}

// Stats says how the children running at a shutdown ended.
type Stats struct {
	Ended  int // by themselves within the grace period
	Cut    int // their connection was cut, then they ended
	Killed int // still running after the cut: killed
}

// Start starts cmd (its Path, Args, Env and Stderr set by the caller) with
// conn as its standard input and output, in a process group of its own.
// When Start succeeds the group owns conn: it is closed once the child has
// ended. When it fails conn is left open for the caller to answer on.
func (g *Group) Start(conn net.Conn, cmd *exec.Cmd) (*Child, error) {
	ch := &Child{Conn: conn, Cmd: cmd, done: make(chan struct{})}
	platform.OwnProcessGroup(cmd)
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = FlushWait
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return nil, ErrClosed
	}
	var wait func() error
	var err error
	if g.Relay || !CanPassSocket {
		wait, err = ch.startRelay()
	} else {
		wait, err = ch.startSocket()
	}
	if err != nil {
		return nil, err
	}
	if g.children == nil {
		g.children = map[*Child]struct{}{}
	}
	g.children[ch] = struct{}{}
	g.wg.Add(1)
	go func() {
		ch.err = wait()
		conn.Close()
		g.mu.Lock()
		delete(g.children, ch)
		g.mu.Unlock()
		close(ch.done)
		g.wg.Done()
	}()
	return ch, nil
}

// startSocket gives the child a duplicate of the socket. exec puts the
// duplicate in blocking mode, which the shared file status flags carry
// over to the group's copy: the group never reads or writes its copy, it
// only shuts it down (the cut) and closes it. That copy is a plain
// descriptor (platform.HoldSocket), and the connection is closed: a copy
// left in Go's network poller would wake this process at every packet of
// the child's session (in the bench, ~2.5 context switches and ~17 us of
// the daemon's CPU per NOOP).
func (ch *Child) startSocket() (func() error, error) {
	f, err := socketFile(ch.Conn)
	if err != nil {
		return nil, fmt.Errorf("socket as standard input: %w", err)
	}
	defer f.Close() // the child has its own copy
	ch.Cmd.Stdin, ch.Cmd.Stdout = f, f
	if err := ch.Cmd.Start(); err != nil {
		return nil, err
	}
	held, err := platform.HoldSocket(f)
	if err != nil {
		ch.cut = func() { shutdownSocket(ch.Conn) }
		return ch.Cmd.Wait, nil
	}
	ch.Conn.Close()
	ch.cut = func() { held.Shutdown() }
	return func() error {
		err := ch.Cmd.Wait()
		held.Close()
		return err
	}, nil
}

// startRelay connects the child to two pipes and copies between them and
// the connection: when the client closes, the child's stdin is closed (it
// sees end of file); when the child exits, the connection is closed.
func (ch *Child) startRelay() (func() error, error) {
	c := ch.Conn
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("pipe: %w", err)
	}
	ch.Cmd.Stdin, ch.Cmd.Stdout = inR, outW
	err = ch.Cmd.Start()
	inR.Close() // the child has its own copies now
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	var closeIn sync.Once
	closeStdin := func() { closeIn.Do(func() { inW.Close() }) }
	ch.cut = func() {
		c.Close()
		closeStdin()
	}

	// client -> child; when the client closes, the child gets end of file.
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		io.Copy(inW, c)
		closeStdin()
	}()
	// child -> client; once the client is gone, keep draining so the child
	// never blocks on a full pipe.
	downDone := make(chan struct{})
	go func() {
		defer close(downDone)
		io.Copy(c, outR)
		io.Copy(io.Discard, outR)
	}()
	return func() error {
		err := ch.Cmd.Wait()
		// The child has exited: what it wrote last is in the pipe; the
		// copy ends at end of file (bounded, in case something inherited
		// the child's stdout).
		t := time.NewTimer(FlushWait)
		select {
		case <-downDone:
		case <-t.C:
		}
		t.Stop()
		c.Close()
		outR.Close()
		<-downDone
		<-upDone
		closeStdin()
		return err
	}, nil
}

// Wait waits until the child has ended and its connection is closed, and
// returns how the child exited (as exec.Cmd.Wait).
func (ch *Child) Wait() error {
	<-ch.done
	return ch.err
}

// Cut cuts the child's connection, for the child too: its next read sees
// end of file. The client gets no more data.
func (ch *Child) Cut() { ch.once.Do(ch.cut) }

// Running is the number of children running now.
func (g *Group) Running() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.children)
}

// Shutdown refuses new children and ends the running ones (see the package
// comment); ctx ending is the end of the grace period. It returns when
// every child has ended.
func (g *Group) Shutdown(ctx context.Context) Stats {
	g.mu.Lock()
	g.closing = true
	running := len(g.children)
	if g.Term {
		for ch := range g.children {
			ch.Cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	g.mu.Unlock()

	all := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(all)
	}()
	var st Stats
	select {
	case <-all: // preferred when the context is done already
		st.Ended = running
		return st
	default:
	}
	select {
	case <-all:
		st.Ended = running
		return st
	case <-ctx.Done():
	}

	g.mu.Lock()
	var cut []*Child
	for ch := range g.children {
		cut = append(cut, ch)
	}
	g.mu.Unlock()
	st.Cut = len(cut)
	st.Ended = running - st.Cut
	if g.Log != nil && len(cut) > 0 {
		g.Log.Infof("shutdown: cutting the connections of %d sessions still running", len(cut))
	}
	for _, ch := range cut {
		ch.Cut()
	}
	wait := g.CutWait
	if wait <= 0 {
		wait = DefaultCutWait
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-all:
		return st
	case <-t.C:
	}

	g.mu.Lock()
	for ch := range g.children {
		if g.Log != nil {
			g.Log.Errorf("shutdown: killing pid %d (session from %s): still running %s after its connection was cut", ch.Cmd.Process.Pid, ch.Conn.RemoteAddr(), wait)
		}
		ch.Cmd.Process.Kill()
		st.Killed++
	}
	g.mu.Unlock()
	st.Cut -= st.Killed
	<-all
	return st
}
