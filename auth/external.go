package auth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"imapd/platform"
)

// DefaultTimeout is authent_timeout when the configuration gives none.
const DefaultTimeout = 10 * time.Second

// maxReplyLine bounds one reply line; the protocol says replies are under 100 bytes.
const maxReplyLine = 4096

// closeWait bounds how long Close waits for the process to leave on "exit".
const closeWait = 2 * time.Second

// External is authent_method external: a child process that reads commands on
// its standard input and answers one line each on its standard output
// (DMail's protocol, as NWAuth speaks it):
//
//	check <user> <password> <client-ip>  ->  +OK <user> <dropfile> [<uid> <info...>] | -ERR <reason> | -DEAD <reason>
//	lookup <user>                        ->  the same, without a password check
//	exit                                 ->  +OK, and the process ends
//
// The process is started at the first request, kept for the following ones
// and restarted after a failure. "+DATA" lines (NetWin's newer protocol) are
// skipped until the final answer.
//
// Decisions where the protocol is silent:
//   - The protocol has no quoting. User names with white space or control
//     characters, and passwords that are empty or hold CR, LF or NUL are
//     rejected (ErrRejected) without asking the process. Spaces inside a
//     password are sent as they are: the password is everything between the
//     user name and the last field, the client IP, which is therefore always
//     sent ("0.0.0.0" when unknown). cmd/cryptauth parses it that way.
//   - A reply "+OK" whose fields are missing keeps the asked name as User and
//     leaves DropFile "" (the caller keeps the computed drop file). A third
//     field that is not a number is taken as the start of Info, UID -1.
//   - Drop file paths cannot contain spaces (fields are space-separated).
//   - -ERR: ErrRejected wrapping the reason. -DEAD: ErrUnavailable; the
//     process is kept (it answered in step). EOF, a crash, an unreadable or
//     unexpected reply, a write error, or no answer within authent_timeout:
//     ErrUnavailable, and the process is killed (on unix its whole process
//     group, so helpers a script started go too) and reaped.
//   - A process found dead before a request, one whose input is closed, and
//     one that closes its output before answering are replaced and the
//     request is sent once more, within the same authent_timeout (requests
//     change nothing, and one-shot authenticators that answer once and exit
//     then work too).
//   - The process's standard error is discarded: in inetd mode imapd's own
//     standard error may be the client's socket.
//
// External serialises requests; it is safe for concurrent use.
type External struct {
	argv      []string
	timeout   time.Duration
	lowerPass bool

	mu     sync.Mutex
	p      *extProc
	closed bool
}

// NewExternal returns an External running command (split on white space
// into program and arguments; no quoting). timeout <= 0 means
// DefaultTimeout. The process is not started until the first request.
func NewExternal(command string, timeout time.Duration) (*External, error) {
	argv := strings.Fields(command)
	if len(argv) == 0 {
		return nil, fmt.Errorf("authent_method external: authent_process (or imapd_authent_process) is not set")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &External{argv: argv, timeout: timeout}, nil
}

// Check asks the process to verify user's password.
func (e *External) Check(user, pass, clientIP string) (*Result, error) {
	if err := checkUserName(user); err != nil {
		return nil, err
	}
	if err := checkPassword(pass); err != nil {
		return nil, err
	}
	if e.lowerPass {
		pass = strings.ToLower(pass)
	}
	ip := strings.TrimSpace(clientIP)
	if ip == "" || strings.ContainsAny(ip, " \t\r\n\x00") {
		ip = "0.0.0.0"
	}
	return e.request("check "+user+" "+pass+" "+ip+"\n", "check", user)
}

// Lookup asks the process for user's canonical name and drop file without a
// password check.
func (e *External) Lookup(user string) (*Result, error) {
	if err := checkUserName(user); err != nil {
		return nil, err
	}
	return e.request("lookup "+user+"\n", "lookup", user)
}

// Close asks the process to exit, waits briefly, then kills it. Later
// requests fail with ErrUnavailable.
func (e *External) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	p := e.p
	e.p = nil
	if p == nil {
		return nil
	}
	wait := closeWait
	if e.timeout < wait {
		wait = e.timeout
	}
	_ = p.stdin.SetWriteDeadline(time.Now().Add(wait))
	_, _ = io.WriteString(p.stdin, "exit\n")
	_ = p.stdin.Close()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
	}
	p.kill()
	return nil
}

func (e *External) request(line, verb, user string) (*Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, unavailable("authenticator is closed")
	}
	deadline := time.Now().Add(e.timeout)
	// A process that ended while idle, whose input is gone, or that closes
	// its output before answering (a one-shot authenticator that already
	// answered once) is replaced and asked again, once: check and lookup
	// change nothing, so repeating them is safe.
	for attempt := 0; ; attempt++ {
		retry := attempt == 0
		if e.p != nil {
			select {
			case <-e.p.exited:
				e.p.kill()
				e.p = nil
			default:
			}
		}
		if e.p == nil {
			p, err := startProc(e.argv)
			if err != nil {
				return nil, unavailable("start authenticator %s: %v", e.argv[0], err)
			}
			e.p = p
		}
		p := e.p
		_ = p.stdin.SetWriteDeadline(deadline) // not supported everywhere (Windows pipes); best effort
		if _, err := io.WriteString(p.stdin, line); err != nil {
			if retry && !errors.Is(err, os.ErrDeadlineExceeded) {
				p.kill()
				e.p = nil
				continue
			}
			return nil, e.fail("%s: write to authenticator %s: %v", verb, e.argv[0], errClean(err))
		}
		res, again, err := e.await(p, verb, user, deadline, retry)
		if again {
			p.kill()
			e.p = nil
			continue
		}
		return res, err
	}
}

// start starts the process now unless it runs (Pool.Start).
func (e *External) start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return unavailable("authenticator is closed")
	}
	if e.p != nil {
		return nil
	}
	p, err := startProc(e.argv)
	if err != nil {
		return unavailable("start authenticator %s: %v", e.argv[0], err)
	}
	e.p = p
	return nil
}

// await reads p's answer to one request. again reports an EOF before any
// reply line when a retry is allowed.
func (e *External) await(p *extProc, verb, user string, deadline time.Time, retry bool) (res *Result, again bool, err error) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case m := <-p.lines:
			if m.err != nil {
				if m.eof && n == 0 && retry {
					return nil, true, nil
				}
				return nil, false, e.fail("%s: authenticator %s: %v", verb, e.argv[0], m.err)
			}
			reply := strings.TrimRight(m.line, "\r\n")
			word, rest, _ := strings.Cut(reply, " ")
			switch strings.ToUpper(strings.TrimSpace(word)) {
			case "+OK":
				return parseOK(rest, user), false, nil
			case "-ERR":
				return nil, false, rejected("%s", limit(strings.TrimSpace(rest)))
			case "-DEAD":
				return nil, false, unavailable("authenticator %s says -DEAD %s", e.argv[0], limit(strings.TrimSpace(rest)))
			case "+DATA":
				continue
			default:
				// Do not quote the line: a confused process might echo the password.
				return nil, false, e.fail("%s: unexpected reply from authenticator %s (%d bytes)", verb, e.argv[0], len(reply))
			}
		case <-t.C:
			return nil, false, e.fail("%s: no answer from authenticator %s within %s", verb, e.argv[0], e.timeout)
		}
	}
}

// fail kills and reaps the process and returns an ErrUnavailable error; the
// next request starts a new process. e.mu is held.
func (e *External) fail(format string, args ...any) error {
	p := e.p
	e.p = nil
	msg := fmt.Sprintf(format, args...)
	if p != nil {
		if st := p.kill(); st != "" {
			msg += " (" + st + ")"
		}
	}
	return fmt.Errorf("%w: %s", ErrUnavailable, msg)
}

func parseOK(rest, user string) *Result {
	r := &Result{User: user, UID: -1, GID: -1}
	rest = strings.TrimSpace(rest)
	field := func() string {
		rest = strings.TrimLeft(rest, " \t")
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			f := rest
			rest = ""
			return f
		}
		f := rest[:i]
		rest = rest[i:]
		return f
	}
	if f := field(); f != "" {
		r.User = f
	}
	r.DropFile = field()
	info := strings.TrimSpace(rest)
	if f := field(); f != "" {
		if uid, err := strconv.Atoi(f); err == nil && uid >= 0 {
			r.UID = uid
			info = strings.TrimSpace(rest)
		}
	}
	r.Info = info
	return r
}

func limit(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

func errClean(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errors.New("timed out")
	}
	return err
}

// extProc is one running authenticator process.
type extProc struct {
	cmd        *exec.Cmd
	stdin      *os.File // our end of the child's standard input
	stdout     *os.File // our end of the child's standard output
	lines      chan lineMsg
	quit       chan struct{}
	quitOnce   sync.Once
	exited     chan struct{} // closed once the process is reaped
	readerDone chan struct{}
}

type lineMsg struct {
	line string
	err  error
	eof  bool // err is the end of the output
}

func startProc(argv []string) (*extProc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = inR
	cmd.Stdout = outW
	cmd.Stderr = nil // the null device
	// A process group of its own, so that a kill also ends any helper
	// process a script started.
	platform.OwnProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	// The child holds its ends now.
	inR.Close()
	outW.Close()
	p := &extProc{
		cmd:        cmd,
		stdin:      inW,
		stdout:     outR,
		lines:      make(chan lineMsg),
		quit:       make(chan struct{}),
		exited:     make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	go p.read()
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// read delivers reply lines until EOF or an error, or until quit.
func (p *extProc) read() {
	defer close(p.readerDone)
	br := bufio.NewReaderSize(p.stdout, maxReplyLine)
	send := func(m lineMsg) bool {
		select {
		case p.lines <- m:
			return true
		case <-p.quit:
			return false
		}
	}
	for {
		b, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			if !send(lineMsg{line: string(b)}) {
				return
			}
			continue
		case errors.Is(err, bufio.ErrBufferFull):
			send(lineMsg{err: fmt.Errorf("reply longer than %d bytes", maxReplyLine)})
			return
		case errors.Is(err, io.EOF):
			if len(b) > 0 && !send(lineMsg{line: string(b)}) {
				return
			}
			send(lineMsg{err: errors.New("process closed its output (exited?)"), eof: true})
			return
		default:
			send(lineMsg{err: fmt.Errorf("read reply: %v", err)})
			return
		}
	}
}

// kill ends the process (and, on unix, its process group), reaps it and
// stops the reader. It returns how the process ended, e.g. "exit status 1".
// Waits are bounded: a process that cannot be killed (imapd no longer has
// the rights, after becoming the user) or a helper that keeps the output
// open is left to end by itself, with the goroutine waiting for it.
func (p *extProc) kill() string {
	p.quitOnce.Do(func() { close(p.quit) })
	select {
	case <-p.exited:
	default:
		if p.cmd.Process != nil {
			platform.KillProcessGroup(p.cmd.Process)
		}
	}
	_ = p.stdin.Close()
	t := time.NewTimer(closeWait)
	defer t.Stop()
	state := ""
	select {
	case <-p.exited:
		if st := p.cmd.ProcessState; st != nil {
			state = st.String()
		}
	case <-t.C:
		state = "did not end when killed"
	}
	// Closing our end stops the reader on unix even if a helper still holds
	// the pipe; elsewhere the reader ends when the helper does.
	_ = p.stdout.Close()
	select {
	case <-p.readerDone:
	case <-t.C:
	}
	return state
}
