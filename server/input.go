package server

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// errIdle is returned by a timedReader when nothing arrived in time.
var errIdle = errors.New("idle too long")

// timedReader reads from the client, giving up after limit without data.
type timedReader interface {
	read(p []byte, limit time.Duration) (int, error)
	// stop releases what the reader holds; the connection is being closed.
	stop()
}

// newTimedReader uses read deadlines when the connection supports them (TCP
// sockets) and a reader goroutine otherwise (pipes).
func newTimedReader(c net.Conn) timedReader {
	if c.SetReadDeadline(time.Time{}) == nil {
		return &deadlineReader{c: c}
	}
	return &pumpReader{
		r:    c,
		buf:  make([]byte, 4096),
		want: make(chan struct{}, 1),
		got:  make(chan pumped, 1),
		quit: make(chan struct{}),
	}
}

type deadlineReader struct {
	c net.Conn

	mu      sync.Mutex
	stopped bool // no read starts any more; the deadline is the closer's
}

func (d *deadlineReader) read(p []byte, limit time.Duration) (int, error) {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return 0, errClosed
	}
	d.c.SetReadDeadline(time.Now().Add(limit))
	d.mu.Unlock()
	n, err := d.c.Read(p)
	if err != nil {
		d.mu.Lock()
		stopped := d.stopped
		d.mu.Unlock()
		if stopped {
			return n, errClosed // stop ended it: not an idle client
		}
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return n, errIdle
	}
	return n, err
}

// stop ends a read in progress and refuses later ones, leaving the
// connection's read deadline to the closer (which may drain the input).
func (d *deadlineReader) stop() {
	d.mu.Lock()
	d.stopped = true
	d.c.SetReadDeadline(time.Now())
	d.mu.Unlock()
}

// pumpReader runs the blocking reads in a goroutine of their own, so that
// waiting for them can be abandoned. The goroutine reads only when asked,
// into a buffer of its own: a late read can never write into a caller's
// slice.
type pumpReader struct {
	r io.Reader

	mu      sync.Mutex
	buf     []byte // the goroutine's between want and got, else ours
	data    []byte // received, not yet returned
	err     error  // returned once data is used up
	waiting bool   // a read has been asked for and not yet collected
	started bool

	want     chan struct{}
	got      chan pumped
	quit     chan struct{}
	quitOnce sync.Once
}

type pumped struct {
	n   int
	err error
}

func (r *pumpReader) read(p []byte, limit time.Duration) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	if len(r.data) == 0 && r.err == nil {
		if !r.started {
			r.started = true
			go r.run()
		}
		if !r.waiting {
			r.waiting = true
			r.want <- struct{}{}
		}
		timer := time.NewTimer(limit)
		defer timer.Stop()
		select {
		case res := <-r.got:
			r.waiting = false
			r.data, r.err = r.buf[:res.n], res.err
		case <-timer.C:
			return 0, errIdle
		case <-r.quit:
			return 0, errClosed
		}
	}
	if len(r.data) > 0 {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	return 0, r.err
}

func (r *pumpReader) run() {
	for {
		select {
		case <-r.want:
		case <-r.quit:
			return
		}
		var n int
		var err error
		for n == 0 && err == nil {
			n, err = r.r.Read(r.buf)
		}
		r.got <- pumped{n, err} // got has room: one outstanding read at most
		if err != nil {
			return
		}
	}
}

func (r *pumpReader) stop() {
	r.quitOnce.Do(func() { close(r.quit) })
}
