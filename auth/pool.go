package auth

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"imapd/config"
)

// Pool is authent_number external authenticator processes shared by every
// session of a -listen daemon that serves sessions in its own process
// (inetd mode, and a daemon handing each connection to a child process,
// use one External per session instead).
//
// Each slot is an External: its process is started at the slot's first
// request, reused for the following ones, replaced when it is found dead
// and killed (then replaced at the next request) when it does not answer
// within authent_timeout. A request takes the first idle slot; when all
// are busy it waits in line, at most authent_timeout, then fails with
// ErrUnavailable ("all authenticators busy"). The request itself then has
// its own authent_timeout.
//
// Pool is safe for concurrent use.
type Pool struct {
	argv    []string
	timeout time.Duration
	n       int
	idle    chan *External
	all     []*External
	done    chan struct{}
	once    sync.Once

	// onQueue, when set (tests), is called when a request starts waiting
	// for a busy pool.
	onQueue func()
}

// NewPool returns a pool of n processes running command (see NewExternal);
// n < 1 means 1, timeout <= 0 DefaultTimeout. No process is started yet.
func NewPool(command string, n int, timeout time.Duration, lowerPass bool) (*Pool, error) {
	if n < 1 {
		n = 1
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	p := &Pool{timeout: timeout, n: n, idle: make(chan *External, n), done: make(chan struct{})}
	for range n {
		e, err := NewExternal(command, timeout)
		if err != nil {
			return nil, err
		}
		e.lowerPass = lowerPass
		p.argv = e.argv
		p.all = append(p.all, e)
		p.idle <- e
	}
	return p, nil
}

// Check asks an idle process of the pool to verify user's password.
func (p *Pool) Check(user, pass, clientIP string) (*Result, error) {
	if err := checkUserName(user); err != nil {
		return nil, err
	}
	if err := checkPassword(pass); err != nil {
		return nil, err
	}
	e, err := p.take()
	if err != nil {
		return nil, err
	}
	defer p.give(e)
	return e.Check(user, pass, clientIP)
}

// Lookup asks an idle process of the pool for user's canonical name and
// drop file.
func (p *Pool) Lookup(user string) (*Result, error) {
	if err := checkUserName(user); err != nil {
		return nil, err
	}
	e, err := p.take()
	if err != nil {
		return nil, err
	}
	defer p.give(e)
	return e.Lookup(user)
}

func (p *Pool) take() (*External, error) {
	select {
	case <-p.done:
		return nil, unavailable("authenticator pool is closed")
	default:
	}
	select {
	case e := <-p.idle:
		return e, nil
	default:
	}
	if p.onQueue != nil {
		p.onQueue()
	}
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case e := <-p.idle:
		return e, nil
	case <-p.done:
		return nil, unavailable("authenticator pool is closed")
	case <-t.C:
		return nil, unavailable("all %d authenticators %s busy for %s", p.n, p.argv[0], p.timeout)
	}
}

func (p *Pool) give(e *External) { p.idle <- e }

// Start starts every process of the pool now, rather than at its first
// request, so that the first logins do not wait for a process to start. A
// process that cannot start is started again by its first request, which
// reports the failure.
func (p *Pool) Start() error {
	var first error
	for _, e := range p.all {
		if err := e.start(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close ends every process (each after its request in progress, if any);
// requests waiting in line and later ones fail with ErrUnavailable.
func (p *Pool) Close() error {
	p.once.Do(func() {
		close(p.done)
		var wg sync.WaitGroup
		for _, e := range p.all {
			wg.Add(1)
			go func() { defer wg.Done(); e.Close() }()
		}
		wg.Wait()
	})
	return nil
}

// Shared is the key of the authenticator a daemon shares between its
// sessions: the settings it was made from. A configuration read later for
// a connection that gives another key needs a new one.
type Shared struct {
	Command   string
	Number    int
	Timeout   time.Duration
	Cache     int // entries; 0 = no cache
	LowerPass bool
}

// SharedKey returns the key of the shared authenticator cfg asks for, and
// false when cfg does not use external authentication (sessions then check
// passwords themselves, see New).
func SharedKey(cfg *config.Config) (Shared, bool) {
	if cfg == nil || strings.ToLower(strings.TrimSpace(cfg.AuthentMethod)) != "external" {
		return Shared{}, false
	}
	k := Shared{Command: cfg.AuthProcess(), Number: cfg.AuthentNumber, Timeout: cfg.AuthentTimeout,
		Cache: cfg.AuthentCache, LowerPass: cfg.LowercasePassword}
	if cfg.AuthNoCache {
		k.Cache = 0
	}
	return k, true
}

// NewShared returns the authenticator a -listen daemon shares between its
// sessions (and lends its session processes, see Relay): a Pool of
// k.Number processes, started now (Pool.Start), behind a Cache of k.Cache
// entries unless that is 0.
func NewShared(k Shared) (Authenticator, error) {
	p, err := NewPool(k.Command, k.Number, k.Timeout, k.LowerPass)
	if err != nil {
		return nil, fmt.Errorf("authenticator pool: %w", err)
	}
	_ = p.Start() // a process that did not start is tried again, and the failure reported, by its first request
	if k.Cache <= 0 {
		return p, nil
	}
	return NewCache(p, k.Cache, CacheTTL), nil
}
