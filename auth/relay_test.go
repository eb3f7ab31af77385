package auth

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"imapd/config"
)

// relayPair serves a Relay with the daemon's side over a real unix socket
// pair (net.Pipe has no buffering, which hides ordering bugs): the returned
// Relay is the session's end.
func relayPair(t *testing.T, timeout time.Duration, get func() (Authenticator, error)) *Relay {
	t.Helper()
	c, d := socketPair(t)
	done := make(chan struct{})
	go func() { defer close(done); ServeRelay(d, get) }()
	r := NewRelay(c, timeout)
	t.Cleanup(func() { r.Close(); <-done })
	return r
}

// Through the relay, the daemon's pool answers as it does in-process: the
// whole Result, rejections and unavailability as their kinds, passwords
// with spaces as they are; one pool process serves many requests.
func TestRelayAnswersAsThePool(t *testing.T) {
	r, log := poolRelay(t)

	res, err := r.Check("alice", "good pass", "192.0.2.7")
	want := Result{User: "ALICE", DropFile: "/var/spool/mail/alice", Info: "quota=100 more info", UID: 1001, GID: -1}
	if err != nil || *res != want {
		t.Fatalf("good: %+v %v, want %+v", res, err, want)
	}
	_, err = r.Check("alice", "wrong", "192.0.2.7")
	if !errors.Is(err, ErrRejected) || strings.Count(err.Error(), ErrRejected.Error()) != 1 {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := r.Check("alice", "dead", ""); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "database down") {
		t.Errorf("-DEAD: %v", err)
	}
	// Refused here, never sent: what the external protocol cannot carry.
	if _, err := r.Check("al ice", "good pass", ""); !errors.Is(err, ErrRejected) {
		t.Errorf("user with a space: %v", err)
	}
	if _, err := r.Check("alice", "a\nb", ""); !errors.Is(err, ErrRejected) {
		t.Errorf("password with LF: %v", err)
	}
	// Still usable after all that.
	if res, err := r.Check("bob", "nouid", ""); err != nil || res.UID != -1 || res.DropFile != "/d/bob" {
		t.Errorf("nouid: %+v %v", res, err)
	}
	seen := strings.Join(readLog(t, log), "\n")
	if got := strings.Count(seen, "start"); got != 1 {
		t.Errorf("%d authenticator starts, want 1:\n%s", got, seen)
	}
	if !strings.Contains(seen, "ip 192.0.2.7") {
		t.Errorf("client address not passed on:\n%s", seen)
	}
}

// The daemon's end going away (the daemon stopped), a daemon that does
// not answer, and one that answers nonsense: ErrUnavailable, bounded in
// time, and the relay is not used again.
func TestRelayDaemonFailures(t *testing.T) {
	t.Run("gone", func(t *testing.T) {
		a, b := socketPair(t)
		b.Close()
		r := NewRelay(a, time.Second)
		defer r.Close()
		for range 2 {
			if _, err := r.Check("alice", "pw", ""); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("%v", err)
			}
		}
	})
	t.Run("silent", func(t *testing.T) {
		a, b := socketPair(t)
		defer b.Close()
		r := NewRelay(a, 50*time.Millisecond)
		r.wait = 50 * time.Millisecond // not the 14 s a real one waits
		defer r.Close()
		if _, err := r.Check("alice", "pw", ""); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("%v", err)
		}
	})
	for name, answer := range map[string]string{
		"garbage": "hello\n",
		"empty":   "{}\n",
		"long":    strings.Repeat("x", maxRelayLine+10) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			a, b := socketPair(t)
			defer b.Close()
			go func() {
				buf := make([]byte, 4096)
				b.Read(buf)
				b.Write([]byte(answer))
			}()
			r := NewRelay(a, time.Second)
			defer r.Close()
			if _, err := r.Check("alice", "pw", ""); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("%v", err)
			}
			if _, err := r.Check("alice", "pw", ""); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "gone") {
				t.Fatalf("second: %v", err)
			}
		})
	}
}

// The daemon's side ends the exchange on what is not a request, a line
// over maxRelayLine included, and answers "unavailable" when it has no
// authenticator.
func TestServeRelayRefuses(t *testing.T) {
	for name, req := range map[string]string{
		"garbage": "check alice pw 0.0.0.0\n",
		"long":    `{"user":"` + strings.Repeat("a", maxRelayLine) + `"}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			a, b := socketPair(t)
			defer a.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				ServeRelay(b, func() (Authenticator, error) { t.Error("asked the authenticator"); return nil, nil })
			}()
			a.Write([]byte(req))
			a.SetReadDeadline(time.Now().Add(10 * time.Second))
			if n, err := a.Read(make([]byte, 10)); err == nil {
				t.Errorf("answered %d bytes", n)
			}
			<-done
		})
	}
	r := relayPair(t, time.Second, func() (Authenticator, error) {
		return nil, errors.New("configuration unreadable")
	})
	if _, err := r.Check("alice", "pw", ""); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "configuration unreadable") {
		t.Errorf("%v", err)
	}
}

// New hands the relay SetRelay gave out once, for authent_method external
// only; the next New starts the authenticator itself.
func TestNewTakesRelayOnce(t *testing.T) {
	a, b := socketPair(t)
	defer b.Close()
	SetRelay(a)
	defer SetRelay(nil)
	unix := &config.Config{AuthentMethod: "unix_user"}
	if au, err := New(unix); err == nil {
		if _, ok := au.(*Relay); ok {
			t.Error("unix_user got the relay")
		}
		au.Close()
	}
	ext := &config.Config{AuthentMethod: "external", AuthentProcess: "/bin/false"}
	first, err := New(ext)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, ok := first.(*Relay); !ok {
		t.Errorf("first New: %T, want the relay", first)
	}
	second, err := New(ext)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, ok := second.(*External); !ok {
		t.Errorf("second New: %T, want its own External", second)
	}
}

// poolRelay is a Relay to a pool of one helper authenticator ("normal"),
// and the helper's log file.
func poolRelay(t *testing.T) (*Relay, string) {
	t.Helper()
	cmd, log := helper(t, "normal")
	p, err := NewPool(cmd, 1, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return relayPair(t, 0, func() (Authenticator, error) { return p, nil }), log
}

// socketPair is a connected pair of unix sockets.
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("unix", dir+"/s")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("unix", dir+"/s")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}
