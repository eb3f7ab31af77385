package dotlock

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrTimeout is returned (wrapped) by Take when the lock was still held
// by another holder at the deadline.
var ErrTimeout = errors.New("lock held by another program")

// Options are a format's policy for its dot-locks.
type Options struct {
	// Host names this host in the lock ("" : os.Hostname). It is made to
	// fit a file name and one line (SafeName).
	Host string
	// Stale is the age after which any lock may be broken, whoever holds it.
	Stale time.Duration
	// Refresh, when not zero, is how often a holder touches its lock to
	// keep it young (Stale must then be well above it).
	Refresh time.Duration
	// Link makes the lock whole through a hitching post of our own name
	// hard-linked to the lock name (UW, NFS-safe); else the lock is made
	// with O_EXCL and written at once (a waiter that finds it still empty
	// judges it by its age).
	Link bool
	// Mode is the lock file's mode, whatever the umask.
	Mode os.FileMode
	// GoWithout: when the directory does not let us create files, go on
	// without the lock (Lock returns nil, nil).
	GoWithout bool
	// AgeOnly: a waiter judges a lock by its age alone, never opening it,
	// and looks at it less often (Windows, where a lock open, even for a
	// stat, cannot be removed by its holder).
	AgeOnly bool
	// Busy, when set, tells a create that failed only because the lock
	// just removed is still open by a reader (Windows: delete pending; it
	// goes when the reader closes it): the lock is taken to exist.
	Busy func(error) bool
	// Retry, when set, runs the removal of our lock (again while the lock
	// is open by a reader, on Windows).
	Retry func(op func() error) error
	// Gone reports that no process with this PID exists on this host
	// (platform.ProcessGone): a lock of this host naming it is broken at
	// once. Nil: the age rule alone.
	Gone func(pid int) bool
	// Warnf, when set, is told of every lock broken (platform.Warnf).
	Warnf func(format string, args ...any)
}

// poll is the pause between two looks at a lock another holder has: a
// lock given up is taken within about that time. A lock this process
// gives up wakes its waiters at once (Wake).
const poll = time.Millisecond

// fullLook is how often a waiter looks at more than the lock's name (its
// content and age: whether it may be broken, see state); between two such
// looks, one lstat(2) a poll.
const fullLook = 25 * time.Millisecond

// maxPoll is the longest pause between two looks of a waiter that judges
// by age only (Options.AgeOnly).
const maxPoll = 10 * time.Millisecond

// Lock is a dot-lock this process holds.
type Lock struct {
	name string
	mu   sync.Mutex  // fi, between the refresher and Release
	fi   os.FileInfo // the lock as we made (or last refreshed) it
	stop chan struct{}
	done chan struct{}
	once sync.Once
	// retry runs the removal (Options.Retry).
	retry func(op func() error) error
}

// ours counts the locks this process holds (or is making): a lock naming
// our PID that is not among them was left by an earlier process that had
// the same PID (a restarted container's imapd is often PID 1).
var ours = struct {
	sync.Mutex
	names map[string]int
}{names: map[string]int{}}

// seq tells apart the hitching posts and seize names of one process.
var seq atomic.Uint64

// wakeup lets the goroutines of this process that wait for a lock this
// process gives up go on at once instead of at their next poll: the
// dot-locks of this package (keyed by name), and any other lock whose
// waiters use Released and Wake with a key of their own (the mbox file
// lock: "flock:" and the mailbox path).
var wakeup = struct {
	sync.Mutex
	ch map[string]chan struct{}
}{ch: map[string]chan struct{}{}}

// Released returns what is closed when this process next gives up the
// lock key (Wake).
func Released(key string) <-chan struct{} {
	wakeup.Lock()
	defer wakeup.Unlock()
	c := wakeup.ch[key]
	if c == nil {
		c = make(chan struct{})
		wakeup.ch[key] = c
	}
	return c
}

// Wake tells the waiters of Released(key).
func Wake(key string) {
	wakeup.Lock()
	c := wakeup.ch[key]
	delete(wakeup.ch, key)
	wakeup.Unlock()
	if c != nil {
		close(c)
	}
}

// own counts name as ours once more; unown undoes it.
func own(name string) {
	ours.Lock()
	ours.names[name]++
	ours.Unlock()
}

func unown(name string) {
	ours.Lock()
	if ours.names[name]--; ours.names[name] <= 0 {
		delete(ours.names, name)
	}
	ours.Unlock()
}

// Content is what a lock of this process holds: "<pid> <host>\n".
func Content(host string) []byte {
	return []byte(strconv.Itoa(os.Getpid()) + " " + SafeName(host) + "\n")
}

// Take takes the dot-lock name, waiting until deadline at the latest. A
// lock whose holder is provably gone (this host, no such process) is
// broken at once, any other one after o.Stale (see seize). A symbolic
// link in its place is refused. With o.GoWithout, a directory that does
// not let us create files gives nil, nil.
func Take(name string, deadline time.Time, o Options) (*Lock, error) {
	if !enter(name, deadline) {
		return nil, fmt.Errorf("lock %s: %w", name, ErrTimeout)
	}
	l, err := take(name, deadline, o)
	if l == nil {
		leave(name)
	}
	return l, err
}

// gates lets one goroutine of this process at a time make, hold and give
// up the lock of a name; the others wait here, never on the file. Without
// it a goroutine could read a lock of ours just given up, find our PID in
// it and no lock of ours by that name any more, and break, as left by an
// earlier process, the fresh lock another goroutine had made meanwhile
// (with ext4's inode reuse and coarse times it looks the same), so that
// two goroutines held the lock at once. A gate lives while a goroutine
// uses it.
var gates = struct {
	sync.Mutex
	m map[string]*gate
}{m: map[string]*gate{}}

type gate struct {
	ch    chan struct{} // holds a token while a goroutine is inside
	users int
}

// enter waits until deadline at the latest for the gate of name.
func enter(name string, deadline time.Time) bool {
	gates.Lock()
	g := gates.m[name]
	if g == nil {
		g = &gate{ch: make(chan struct{}, 1)}
		gates.m[name] = g
	}
	g.users++
	gates.Unlock()
	select {
	case g.ch <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case g.ch <- struct{}{}:
		return true
	case <-t.C:
		unuse(name, false)
		return false
	}
}

// leave gives up the gate of name entered.
func leave(name string) { unuse(name, true) }

// unuse counts one user of name's gate less, giving back its token when
// it was inside, and forgets the gate when no one uses it.
func unuse(name string, inside bool) {
	gates.Lock()
	defer gates.Unlock()
	g := gates.m[name]
	if inside {
		<-g.ch
	}
	if g.users--; g.users == 0 {
		delete(gates.m, name)
	}
}

// take is Take inside the gate of name.
func take(name string, deadline time.Time, o Options) (*Lock, error) {
	host := SafeName(hostOf(o))
	content := Content(host)
	wait := poll
	for {
		c := Released(name)
		if o.AgeOnly {
			// Every look opens the lock for a moment on Windows, which
			// keeps its holder from removing it: one look a pause, the
			// pause growing to maxPoll, and no look before making it.
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("lock %s: %w", name, ErrTimeout)
			}
		} else if fi, err := os.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("lock %s is a symbolic link, refused", name)
		}
		// Counted as ours before it exists: another goroutine that finds
		// it with our PID must not take it for an earlier process's.
		own(name)
		fi, err := makeLock(name, host, content, o)
		if err == nil {
			return hold(name, fi, o), nil
		}
		unown(name)
		switch {
		case errors.Is(err, fs.ErrExist):
		case o.GoWithout && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)):
			return nil, nil
		case o.Busy != nil && o.Busy(err):
			// Windows: the lock just removed is still open by a reader
			// (delete pending); it goes when the reader closes it.
		default:
			return nil, fmt.Errorf("create lock %s: %w", name, err)
		}
		cur, why := state(name, host, o)
		switch {
		case cur == nil && time.Now().Before(deadline):
			continue // just released: try again at once
		case cur != nil && why != "":
			if seize(name, cur) && o.Warnf != nil {
				o.Warnf("broke the lock %s: %s", name, why)
			}
			continue
		}
		if o.AgeOnly {
			Pause(c, min(wait, max(time.Until(deadline), 0)))
			wait = min(2*wait, maxPoll)
			continue
		}
		// Wait until the lock is given up (a look at its name every poll,
		// at once for a lock of this process), at most fullLook.
		look := time.Now().Add(fullLook)
		for {
			left := time.Until(deadline)
			if left <= 0 {
				return nil, fmt.Errorf("lock %s: %w", name, ErrTimeout)
			}
			Pause(c, min(poll, left))
			select {
			case <-c:
			default:
				if fi, err := os.Lstat(name); err == nil && cur != nil && sameLock(fi, cur) && time.Now().Before(look) {
					continue
				}
			}
			break
		}
	}
}

// Pause waits for c (from Released) or d, whichever comes first.
func Pause(c <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	select {
	case <-c:
	case <-t.C:
	}
	t.Stop()
}

func hostOf(o Options) string {
	if o.Host != "" {
		return o.Host
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	return h
}

// hold makes the Lock for the lock made as fi, refreshed every o.Refresh
// if set.
func hold(name string, fi os.FileInfo, o Options) *Lock {
	l := &Lock{name: name, fi: fi, retry: o.Retry}
	if o.Refresh <= 0 {
		return l
	}
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(o.Refresh)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.mu.Lock()
				if cur, err := os.Lstat(name); err == nil && sameLock(cur, l.fi) {
					now := time.Now()
					if os.Chtimes(name, now, now) == nil {
						if nfi, err := lstatNow(name); err == nil {
							l.fi = nfi
						}
					}
				}
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// Release removes the lock, unless someone replaced it meanwhile (broke
// it as stale): that one is theirs. A nil Lock is nothing to release.
func (l *Lock) Release() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		if l.stop != nil {
			close(l.stop)
			<-l.done
		}
		l.mu.Lock()
		if cur, err := os.Lstat(l.name); err == nil && sameLock(cur, l.fi) {
			if l.retry != nil {
				l.retry(func() error { return os.Remove(l.name) })
			} else {
				os.Remove(l.name)
			}
		}
		l.mu.Unlock()
		unown(l.name)
		leave(l.name)
		Wake(l.name)
	})
}

// makeLock creates the lock name holding content, or fails with an error
// matching fs.ErrExist when it exists.
func makeLock(name, host string, content []byte, o Options) (os.FileInfo, error) {
	if o.Link {
		_, fi, _, err := Hitch(name, content, Post{Host: host, Mode: o.Mode})
		var lerr *os.LinkError
		if !errors.As(err, &lerr) {
			return fi, err
		}
		// No hard links here (FAT, some network file systems; each says so
		// with its own error): O_EXCL, then the content.
	}
	if err := writeNew(name, content, o.Mode); err != nil {
		return nil, err
	}
	return lstatNow(name)
}

// Post says how Hitch makes a lock.
type Post struct {
	// Host, when not empty, ends the hitching post's name (UW's).
	Host string
	// Mode is the lock file's mode, whatever the umask.
	Mode os.FileMode
	// Sync flushes the content before the link (a lock on a file server
	// is never seen empty after a crash of the server).
	Sync bool
	// Keep returns the lock open for writing (the caller closes it); else
	// the file is closed before the link. Unix only: on Windows a file
	// open cannot be removed, and the hitching post would stay.
	Keep bool
}

// Hitch makes the lock name holding content whole: the content is written
// to a file of our own (UW's "hitching post": <name>.<time>.<pid>.<seq>,
// then .<host> when p.Host is set), which is hard-linked to name, then
// removed: the lock never exists empty or half written. link(2) fails when
// name exists, on NFS too (where O_EXCL was not always atomic). Success is
// judged by name being our file (its link count), not by link's answer:
// over NFS a link that worked may report an error. It returns the lock
// (open when p.Keep), what it is, and the hitching post's modification
// time: the file system's clock, also when the lock exists. The error
// matches fs.ErrExist when name exists; it is an *os.LinkError when the
// link failed otherwise (no hard links on this file system); the error of
// creating the hitching post is os.OpenFile's.
func Hitch(name string, content []byte, p Post) (*os.File, os.FileInfo, time.Time, error) {
	hitch := fmt.Sprintf("%s.%d.%d.%d", name, time.Now().Unix(), os.Getpid(), seq.Add(1))
	if p.Host != "" {
		hitch += "." + p.Host
	}
	f, err := os.OpenFile(hitch, os.O_WRONLY|os.O_CREATE|os.O_EXCL, p.Mode)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	defer os.Remove(hitch)
	f.Chmod(p.Mode) // on the file, not the name
	_, err = f.Write(content)
	if err == nil && p.Sync {
		err = f.Sync()
	}
	var hfi os.FileInfo
	if err == nil {
		hfi, err = f.Stat()
	}
	if !p.Keep || err != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		f = nil
	}
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("write lock %s: %w", hitch, err)
	}
	now := hfi.ModTime()
	lerr := os.Link(hitch, name)
	if nfi, err := lstatNow(name); err == nil && os.SameFile(hfi, nfi) {
		return f, nfi, now, nil
	}
	if f != nil {
		f.Close()
	}
	if lerr == nil || errors.Is(lerr, fs.ErrExist) {
		return nil, nil, now, fs.ErrExist
	}
	return nil, nil, now, lerr
}

// writeNew creates name (O_EXCL, mode whatever the umask, best effort)
// holding content; the error matches fs.ErrExist when name exists.
func writeNew(name string, content []byte, mode os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	f.Chmod(mode) // on the file, not the name
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("write lock %s: %w", name, err)
	}
	return nil
}

// lstatNow is os.Lstat with the file's identity read at once: on Windows
// os.SameFile reads it later by name, when the name may be another file's
// (our lock released and made anew by someone else).
func lstatNow(path string) (os.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err == nil {
		os.SameFile(fi, fi)
	}
	return fi, err
}

// SafeName makes a host name fit in a file name and on one line.
func SafeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '/' || r == '\\' || r == ':' || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}

// state looks at the lock name someone holds: cur is what it is (nil:
// gone meanwhile), why is non-empty when it may be broken now.
func state(name, host string, o Options) (cur os.FileInfo, why string) {
	if o.AgeOnly {
		fi, err := lstatNow(name)
		if err != nil {
			return nil, ""
		}
		if !fi.Mode().IsRegular() {
			return fi, ""
		}
		return fi, ageRule(fi, o.Stale)
	}
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ""
		}
		// Unreadable (another user's 0600 lock): the age still counts.
		fi, err := lstatNow(name)
		if err != nil {
			return nil, ""
		}
		return fi, ageRule(fi, o.Stale)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, ""
	}
	if lfi, err := os.Lstat(name); err != nil || !os.SameFile(fi, lfi) {
		return nil, "" // replaced meanwhile: look again
	}
	if !fi.Mode().IsRegular() {
		return fi, ""
	}
	if why := ageRule(fi, o.Stale); why != "" {
		return fi, why
	}
	buf := make([]byte, 256)
	n, _ := io.ReadFull(f, buf)
	pid, h, ok := Parse(buf[:n])
	if !ok || h != host {
		return fi, "" // not ours to judge (empty, UW's, procmail's, another host's): the age rule
	}
	if pid == os.Getpid() {
		ours.Lock()
		mine := ours.names[name] > 0
		ours.Unlock()
		if !mine {
			return fi, fmt.Sprintf("left by an earlier process with our PID %d", pid)
		}
		return fi, ""
	}
	if o.Gone != nil && o.Gone(pid) {
		return fi, fmt.Sprintf("its holder, process %d on this host, is gone", pid)
	}
	return fi, ""
}

// ageRule: any lock older than stale may be broken.
func ageRule(fi os.FileInfo, stale time.Duration) string {
	if age := time.Since(fi.ModTime()); age > stale {
		return fmt.Sprintf("%d seconds old", int(age.Seconds()))
	}
	return ""
}

// Parse reads "<pid> <host>\n", the content we write. Anything else
// (empty, procmail's "0", a PID alone as liblockfile writes) is not ours:
// ok false.
func Parse(b []byte) (pid int, host string, ok bool) {
	line, rest, found := bytes.Cut(b, []byte("\n"))
	if !found || len(bytes.TrimSpace(rest)) > 0 {
		return 0, "", false
	}
	p, h, found := bytes.Cut(line, []byte(" "))
	if !found || len(h) == 0 || bytes.ContainsAny(h, " \t\r") {
		return 0, "", false
	}
	n, err := strconv.Atoi(string(p))
	if err != nil || n <= 0 || strconv.Itoa(n) != string(p) {
		return 0, "", false
	}
	return n, string(h), true
}

// sameLock: the same lock file at the same time (inode numbers are reused
// at once, and a refresh changes the time).
func sameLock(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime())
}

// seize removes the lock name that may be broken (stale: what we looked
// at) and reports whether it did. Another process may have broken it just
// before us and made a fresh lock, or its holder refreshed it: so the lock
// is first renamed to a name of ours (atomic), and if what we moved is not
// the stale file, it is put back (os.Link fails if yet another lock was
// made meanwhile, which then stands).
func seize(name string, stale os.FileInfo) bool {
	mine := fmt.Sprintf("%s.%d.%d.seize", name, os.Getpid(), seq.Add(1))
	if err := os.Rename(name, mine); err != nil {
		return false // gone already: try again
	}
	if fi, err := lstatNow(mine); err == nil && !sameLock(fi, stale) {
		if err := os.Link(mine, name); err != nil && !errors.Is(err, fs.ErrExist) {
			os.Rename(mine, name) // no hard links on this file system
			return false
		}
		os.Remove(mine)
		return false
	}
	os.Remove(mine)
	return true
}
