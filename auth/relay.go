package auth

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// The relay: a -listen daemon that starts a process per connection (root,
// imapd_become_user) lends each of them its shared external authenticator
// (NewShared: warm processes, the cache) over a socket pair, instead of
// every session process starting its own authenticator at LOGIN (a second
// process start per connection). Both ends are imapd; the session process
// takes the socket only when the daemon started it (never after a set-uid
// start), and closes it after its LOGIN, before it becomes the user.
//
// One request at a time, one JSON object per line each way:
//
//	session -> daemon  {"user":..., "pass":..., "ip":...}
//	daemon -> session  {"result":{...}} | {"rejected":"reason"} | {"unavailable":"reason"}
//
// User names, passwords and the Result's strings travel as []byte (base64
// in JSON): they are bytes, not always UTF-8 (IMAP literals, a Latin-1 drop
// file), and a JSON string would turn each byte that is not UTF-8 into
// U+FFFD. A line longer than maxRelayLine ends the exchange: it is above
// what one IMAP command can carry (32 KiB outside literals, base64 adds a
// third), so every LOGIN reaches the authenticator, as in-process.
const maxRelayLine = 64 << 10

// readLine reads one line of at most maxRelayLine bytes; the buffer grows
// only for a long one.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	long := append([]byte(nil), line...)
	for err == bufio.ErrBufferFull {
		line, err = r.ReadSlice('\n')
		long = append(long, line...)
		if len(long) > maxRelayLine {
			return nil, errors.New("line too long")
		}
	}
	return long, err
}

type relayRequest struct {
	User []byte `json:"user"`
	Pass []byte `json:"pass"`
	IP   []byte `json:"ip"`
}

type relayAnswer struct {
	Result      *relayResult `json:"result,omitempty"`
	Rejected    string       `json:"rejected,omitempty"`
	Unavailable string       `json:"unavailable,omitempty"`
}

// relayResult is a Result on the wire.
type relayResult struct {
	User, DropFile, Info, Home []byte
	UID, GID                   int
}

func toWire(r *Result) *relayResult {
	if r == nil {
		return nil
	}
	return &relayResult{User: []byte(r.User), DropFile: []byte(r.DropFile), Info: []byte(r.Info),
		Home: []byte(r.Home), UID: r.UID, GID: r.GID}
}

func (w *relayResult) result() *Result {
	return &Result{User: string(w.User), DropFile: string(w.DropFile), Info: string(w.Info),
		Home: string(w.Home), UID: w.UID, GID: w.GID}
}

// ServeRelay answers a session process's requests on c with the
// authenticator get returns for each (the daemon's shared one for its
// current configuration), until c ends or sends what is not a request. It
// closes c.
func ServeRelay(c net.Conn, get func() (Authenticator, error)) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := readLine(r)
		if err != nil {
			return // the process ended, or a line too long
		}
		var req relayRequest
		if err := json.Unmarshal(line, &req); err != nil {
			return
		}
		var ans relayAnswer
		a, err := get()
		if err == nil {
			var res *Result
			res, err = a.Check(string(req.User), string(req.Pass), string(req.IP))
			ans.Result = toWire(res)
		}
		switch {
		case err == nil && ans.Result == nil:
			ans.Unavailable = "no answer"
		case errors.Is(err, ErrRejected):
			ans.Result, ans.Rejected = nil, reason(err, ErrRejected)
		case err != nil:
			ans.Result, ans.Unavailable = nil, reason(err, ErrUnavailable)
		}
		out, err := json.Marshal(&ans)
		if err != nil {
			return
		}
		if _, err := c.Write(append(out, '\n')); err != nil {
			return
		}
	}
}

// reason is err's text without kind's, which the other end adds again.
func reason(err, kind error) string {
	s := strings.TrimPrefix(err.Error(), kind.Error()+": ")
	if s == "" {
		s = kind.Error()
	}
	return s
}

// relaySlack is what a Relay waits beyond the daemon's own bounds.
const relaySlack = 10 * time.Second

// Relay is the session process's end: an Authenticator that asks the daemon.
// Any failure of the exchange is ErrUnavailable, and the relay is not used
// again.
type Relay struct {
	c    net.Conn
	wait time.Duration // for an answer

	mu     sync.Mutex
	r      *bufio.Reader
	broken bool
}

// NewRelay returns a Relay over c. timeout is authent_timeout (<= 0:
// DefaultTimeout). The daemon bounds each request itself: up to timeout
// waiting for a free process of its pool, timeout for the answer, and a
// few seconds to replace a process that did not answer. The Relay waits
// relaySlack more than all that, as a guard against a daemon that stopped
// answering, not as a limit of its own.
func NewRelay(c net.Conn, timeout time.Duration) *Relay {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Relay{c: c, wait: 2*timeout + 2*closeWait + relaySlack, r: bufio.NewReader(c)}
}

// Check asks the daemon to verify user's password.
func (r *Relay) Check(user, pass, clientIP string) (*Result, error) {
	if err := checkUserName(user); err != nil {
		return nil, err
	}
	if err := checkPassword(pass); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.broken {
		return nil, unavailable("the daemon's authenticator is gone")
	}
	ans, err := r.exchange(relayRequest{User: []byte(user), Pass: []byte(pass), IP: []byte(clientIP)})
	if err != nil {
		r.broken = true
		return nil, unavailable("asking the daemon's authenticator: %v", err)
	}
	switch {
	case ans.Rejected != "":
		return nil, rejected("%s", ans.Rejected)
	case ans.Unavailable != "":
		return nil, unavailable("%s", ans.Unavailable)
	case ans.Result == nil:
		r.broken = true
		return nil, unavailable("the daemon's authenticator answered nothing")
	}
	return ans.Result.result(), nil
}

func (r *Relay) exchange(req relayRequest) (*relayAnswer, error) {
	out, err := json.Marshal(&req)
	if err != nil {
		return nil, err
	}
	if err := r.c.SetDeadline(time.Now().Add(r.wait)); err != nil {
		return nil, err
	}
	if _, err := r.c.Write(append(out, '\n')); err != nil {
		return nil, err
	}
	line, err := readLine(r.r)
	if err != nil {
		return nil, err
	}
	var ans relayAnswer
	if err := json.Unmarshal(line, &ans); err != nil {
		return nil, fmt.Errorf("unreadable answer: %w", err)
	}
	return &ans, nil
}

// Close ends the exchange; the daemon's end sees it.
func (r *Relay) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.broken = true
	return r.c.Close()
}

// The relay a daemon gave this process (SetRelay), which New hands out once
// for authent_method external.
var relay struct {
	mu sync.Mutex
	c  net.Conn
}

// SetRelay gives New the daemon's relay: the first New for authent_method
// external returns a Relay over c instead of starting the authenticator.
func SetRelay(c net.Conn) {
	relay.mu.Lock()
	defer relay.mu.Unlock()
	relay.c = c
}

// takeRelay returns the relay SetRelay gave, once.
func takeRelay() net.Conn {
	relay.mu.Lock()
	defer relay.mu.Unlock()
	c := relay.c
	relay.c = nil
	return c
}
