package auth

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"imapd/config"
)

// The pool reuses its processes: n logins start one process each at most.
func TestPoolReusesProcesses(t *testing.T) {
	cmd, log := helper(t, "normal")
	p, err := NewPool(cmd, 2, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 10 {
		r, err := p.Check("alice", "good pass", "10.0.0.1")
		if err != nil || r.User != "ALICE" {
			t.Fatalf("check %d: %v %+v", i, err, r)
		}
	}
	if _, err := p.Check("alice", "bad", ""); !errors.Is(err, ErrRejected) {
		t.Fatalf("bad password: %v", err)
	}
	if n := countPrefix(readLog(t, log), "start"); n < 1 || n > 2 {
		t.Errorf("%d processes started for 11 checks with a pool of 2", n)
	}
}

// A crashed and a hung authenticator are replaced; the pool goes on.
func TestPoolSurvivesCrashAndHang(t *testing.T) {
	cmd, log := helper(t, "normal")
	p, err := NewPool(cmd, 1, 3*time.Second, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Check("alice", "good pass", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Check("alice", "crash", ""); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("crash: %v", err)
	}
	if _, err := p.Check("alice", "good pass", ""); err != nil {
		t.Fatalf("after a crash: %v", err)
	}
	if _, err := p.Check("alice", "hang", ""); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("hang: %v", err)
	}
	if r, err := p.Check("bob", "good pass", ""); err != nil || r.User != "BOB" {
		t.Fatalf("after a hang: %v %+v", err, r)
	}
	// The first process, the one replacing the crashed one (the crash is
	// retried once on it, and it crashes too), the one after the crash, the
	// one replacing the hung one: at least 3 starts whatever the order.
	if n := countPrefix(readLog(t, log), "start"); n < 3 {
		t.Errorf("only %d processes started: a dead one was not replaced", n)
	}
}

// With every process busy a login waits in line, and is answered when one
// is free, or fails after authent_timeout.
func TestPoolQueues(t *testing.T) {
	cmd, log := helper(t, "normal")
	// Waiting longer than authent_timeout: no process is involved.
	short, err := NewPool(cmd, 1, 100*time.Millisecond, false)
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	<-short.idle // as if a login were being checked
	if _, err := short.Check("bob", "good pass", ""); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("all busy for authent_timeout: %v", err)
	}

	p, err := NewPool(cmd, 1, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	queued := make(chan struct{}, 1)
	p.onQueue = func() { queued <- struct{}{} }
	busy := <-p.idle
	done := make(chan error, 1)
	go func() {
		r, err := p.Check("bob", "good pass", "")
		if err == nil && r.User != "BOB" {
			err = fmt.Errorf("answer %+v", r)
		}
		done <- err
	}()
	<-queued
	p.give(busy)
	if err := <-done; err != nil {
		t.Fatalf("queued login: %v", err)
	}
	if n := countPrefix(readLog(t, log), "start"); n != 1 {
		t.Errorf("%d processes for a pool of 1", n)
	}
}

func TestPoolClosed(t *testing.T) {
	cmd, _ := helper(t, "normal")
	p, err := NewPool(cmd, 2, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Check("alice", "good pass", ""); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := p.Check("alice", "good pass", ""); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("after Close: %v", err)
	}
	if _, err := NewPool("", 2, 0, false); err == nil {
		t.Error("a pool without a command")
	}
}

// Cache: a success is answered from memory until it expires; failures are
// never cached; the cache holds at most max entries.
func TestCacheHitMissExpiry(t *testing.T) {
	cmd, log := helper(t, "normal")
	e, err := NewExternal(cmd, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(e, 10, time.Minute)
	defer c.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	asked := func() int { return countPrefix(readLog(t, log), "pass ") }

	r, err := c.Check("alice", "good pass", "10.0.0.1")
	if err != nil || r.User != "ALICE" || r.Info != "quota=100 more info" {
		t.Fatalf("miss: %v %+v", err, r)
	}
	r.User = "changed by the caller" // the cache keeps its own copy
	r, err = c.Check("alice", "good pass", "10.0.0.1")
	if err != nil || r.User != "ALICE" || asked() != 1 {
		t.Fatalf("hit: %v %+v, asked %d times", err, r, asked())
	}
	// Another address, another password: asked.
	if _, err := c.Check("alice", "good pass", "10.0.0.2"); err != nil || asked() != 2 {
		t.Fatalf("other address: %v, asked %d", err, asked())
	}
	for i := range 3 {
		if _, err := c.Check("alice", "wrong", "10.0.0.1"); !errors.Is(err, ErrRejected) || asked() != 3+i {
			t.Fatalf("failure %d: %v, asked %d", i, err, asked())
		}
	}
	now = now.Add(59 * time.Second)
	if _, err := c.Check("alice", "good pass", "10.0.0.1"); err != nil || asked() != 5 {
		t.Fatalf("before expiry: %v, asked %d", err, asked())
	}
	now = now.Add(time.Second)
	if _, err := c.Check("alice", "good pass", "10.0.0.1"); err != nil || asked() != 6 {
		t.Fatalf("at expiry: %v, asked %d", err, asked())
	}
	if _, err := c.Check("alice", "good pass", "10.0.0.1"); err != nil || asked() != 6 {
		t.Fatalf("renewed: %v, asked %d", err, asked())
	}
}

func TestCacheBound(t *testing.T) {
	cmd, log := helper(t, "normal")
	e, err := NewExternal(cmd, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(e, 2, 0)
	defer c.Close()
	asked := func() int { return countPrefix(readLog(t, log), "pass ") }
	for i := range 5 {
		if _, err := c.Check(fmt.Sprintf("u%d", i), "good pass", ""); err != nil {
			t.Fatal(err)
		}
		if c.Len() > 2 {
			t.Fatalf("%d entries in a cache of 2", c.Len())
		}
	}
	c.Check("u4", "good pass", "") // newest: kept
	if asked() != 5 {
		t.Errorf("u4 was asked again (%d)", asked())
	}
	c.Check("u0", "good pass", "") // oldest: pushed out
	if asked() != 6 {
		t.Errorf("u0 was answered from the cache (%d)", asked())
	}
}

// An unavailable authenticator is not cached either, and a rejection drops
// an entry.
func TestCacheNeverCachesFailure(t *testing.T) {
	cmd, log := helper(t, "normal")
	e, err := NewExternal(cmd, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(e, 10, 0)
	defer c.Close()
	for range 2 {
		if _, err := c.Check("alice", "dead", ""); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("dead: %v", err)
		}
	}
	if n := countPrefix(readLog(t, log), "pass "); n != 2 {
		t.Errorf("asked %d times for 2 unavailable checks", n)
	}
	if c.Len() != 0 {
		t.Errorf("%d entries after failures only", c.Len())
	}
}

func TestSharedKey(t *testing.T) {
	cfg := config.Defaults()
	if _, ok := SharedKey(cfg); ok {
		t.Error("unix_user has a shared authenticator")
	}
	cfg.AuthentMethod = "external"
	cfg.AuthentProcess = "/bin/auth -x"
	k, ok := SharedKey(cfg)
	if !ok || k.Number != 2 || k.Cache != 1000 || k.Command != "/bin/auth -x" {
		t.Errorf("key %+v %v", k, ok)
	}
	cfg.AuthNoCache = true
	if k, _ := SharedKey(cfg); k.Cache != 0 {
		t.Errorf("auth_nocache: %+v", k)
	}
	cmd, _ := helper(t, "normal")
	a, err := NewShared(Shared{Command: cmd, Number: 1, Cache: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, ok := a.(*Cache); !ok {
		t.Errorf("shared with a cache is %T", a)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Check("alice", "good pass", ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// Logins per second with the external authenticator: a process per login
// (inetd mode, and -listen before the pool), the pool, the pool behind the
// cache.
func BenchmarkExternalLogin(b *testing.B) {
	cmd, _ := helper(b, "normal")
	b.Run("process-per-login", func(b *testing.B) {
		for b.Loop() {
			e, err := NewExternal(cmd, 0)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.Check("alice", "good pass", "10.0.0.1"); err != nil {
				b.Fatal(err)
			}
			e.Close()
		}
	})
	run := func(b *testing.B, a Authenticator) {
		defer a.Close()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := a.Check("alice", "good pass", "10.0.0.1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("pool", func(b *testing.B) {
		p, err := NewShared(Shared{Command: cmd, Number: 2})
		if err != nil {
			b.Fatal(err)
		}
		run(b, p)
	})
	b.Run("pool+cache", func(b *testing.B) {
		p, err := NewShared(Shared{Command: cmd, Number: 2, Cache: 1000})
		if err != nil {
			b.Fatal(err)
		}
		run(b, p)
	})
}

// Start starts every process at once; the requests that follow use them
// and start none.
func TestPoolStart(t *testing.T) {
	cmd, log := helper(t, "normal")
	p, err := NewPool(cmd, 2, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := p.Check("alice", "good pass", ""); err != nil {
			t.Fatal(err)
		}
	}
	starts := 0
	for _, l := range readLog(t, log) {
		if strings.HasPrefix(l, "start") {
			starts++
		}
	}
	if starts != 2 {
		t.Errorf("%d starts, want 2: %q", starts, readLog(t, log))
	}
	// A command that cannot start: Start says so, the request says so too.
	bad, err := NewPool("/nonexistent/authenticator", 1, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Start(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Start: %v", err)
	}
	if _, err := bad.Check("alice", "pw", ""); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Check: %v", err)
	}
}
