package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Failed logins in session processes. A -listen daemon that starts a
// process per connection keeps the failed logins per client address
// (server.LoginFailures) for all of them, as a daemon serving sessions
// itself does: each process is told at start what its client's address
// owes, and reports each failure, waiting for the daemon to have counted
// it before it answers the client. So a client cannot reset the count by
// opening a new connection.
//
// The daemon sets envLoginReport to "<failures> <wait in ms>" and passes two
// pipes as descriptors 3 (reports: one byte per failure) and 4 (answers: per
// report, the address's failures and the delay earned in milliseconds, two
// big-endian uint32). A process started through the set-uid bit ignores
// them; so does one whose descriptors 3 and 4 are not pipes.
const envLoginReport = "IMAPD_LOGIN_REPORT"

// reportWait bounds how long a session process waits for the daemon to
// count a failure; after that it stops reporting.
const reportWait = 2 * time.Second

// shareLogins sets up cmd, a session process for client, to report its
// failed logins to k.logins, whose delays follow first and max. The
// returned function must be called after cmd.Start, with whether it
// started.
func (k *children) shareLogins(cmd *exec.Cmd, client net.Addr, first, max time.Duration) (func(started bool), error) {
	if runtime.GOOS == "windows" {
		return func(bool) {}, nil // no descriptors to pass (and no session processes there)
	}
	reportR, reportW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("report pipe: %w", err)
	}
	answerR, answerW, err := os.Pipe()
	if err != nil {
		reportR.Close()
		reportW.Close()
		return nil, fmt.Errorf("report pipe: %w", err)
	}
	n, wait := k.logins.Owed(client)
	cmd.ExtraFiles = []*os.File{reportW, answerR} // descriptors 3 and 4
	addEnv(cmd, fmt.Sprintf("%s=%d %d", envLoginReport, n, wait.Milliseconds()))
	return func(started bool) {
		reportW.Close()
		answerR.Close()
		if !started {
			reportR.Close()
			answerW.Close()
			return
		}
		go func() {
			defer reportR.Close()
			defer answerW.Close()
			b := make([]byte, 1)
			for {
				if _, err := reportR.Read(b); err != nil {
					return // the process ended
				}
				n, d := k.logins.Fail(client, first, max)
				var answer [8]byte
				binary.BigEndian.PutUint32(answer[:4], uint32(min(n, math.MaxInt32)))
				binary.BigEndian.PutUint32(answer[4:], uint32(min(d.Milliseconds(), math.MaxInt32)))
				if _, err := answerW.Write(answer[:]); err != nil {
					return
				}
			}
		}()
	}, nil
}

// loginReporter is a session process's side.
type loginReporter struct {
	report, answer *os.File

	mu     sync.Mutex
	broken bool
}

// openLoginReport returns the reporter, and the failures and wait the
// daemon says the client's address owes, when this process was started by
// a daemon for that (nil otherwise).
func openLoginReport(setuid bool) (rep *loginReporter, failures int, wait time.Duration) {
	v, ok := os.LookupEnv(envLoginReport)
	if !ok {
		return nil, 0, 0
	}
	os.Unsetenv(envLoginReport) // not for the authenticator
	if setuid {
		return nil, 0, 0
	}
	f, ms, ok := strings.Cut(v, " ")
	n, err1 := strconv.Atoi(f)
	m, err2 := strconv.ParseInt(ms, 10, 64)
	if !ok || err1 != nil || err2 != nil || n < 0 || m < 0 {
		return nil, 0, 0
	}
	report, answer := inheritedPipe(3), inheritedPipe(4)
	if report == nil || answer == nil {
		return nil, 0, 0
	}
	return &loginReporter{report: report, answer: answer}, n, time.Duration(m) * time.Millisecond
}

// failedFunc is the server's Options.LoginFailed: nil without a daemon.
func (r *loginReporter) failedFunc() func(net.Addr) (int, time.Duration) {
	if r == nil {
		return nil
	}
	return r.failed
}

// failed reports a failed login and waits (at most reportWait) until the
// daemon has counted it; it returns the daemon's count and delay.
func (r *loginReporter) failed(net.Addr) (failures int, delay time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.broken {
		return 0, 0
	}
	if _, err := r.report.Write([]byte{1}); err != nil {
		r.broken = true
		return 0, 0
	}
	type answer struct {
		b   [8]byte
		err error
	}
	got := make(chan answer, 1)
	go func() {
		var a answer
		_, a.err = io.ReadFull(r.answer, a.b[:])
		got <- a
	}()
	t := time.NewTimer(reportWait)
	defer t.Stop()
	select {
	case a := <-got:
		if a.err != nil {
			r.broken = true
			return 0, 0
		}
		return int(binary.BigEndian.Uint32(a.b[:4])), time.Duration(binary.BigEndian.Uint32(a.b[4:])) * time.Millisecond
	case <-t.C:
		r.broken = true // the reader goroutine stays: this process serves one connection
		return 0, 0
	}
}
