package mbox

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

	"imapd/mailbox"
	"imapd/platform"
	"imapd/platform/filelock"
)

// staleLock is the age after which any dot-lock is taken to be left over by
// a dead process and seized (UW LOCKTIMEOUT).
const staleLock = 5 * time.Minute

// poll is the pause between two looks at a lock another process holds: a
// lock given up is taken within about that time. A lock this process
// gives up wakes its waiters at once (wakeup).
const poll = time.Millisecond

// fullLook is how often a waiter for a dot-lock looks at more than the
// lock's name (its content and age: whether it may be broken, see
// lockState); between two such looks, one lstat(2) a poll.
const fullLook = 25 * time.Millisecond

// held is a mailbox locked for one operation: the dot-lock (if it could be
// made), the file opened for the operation and the file lock on it.
type held struct {
	path   string
	f      *os.File
	dot    *dotLockFile // the dot-lock we made; nil when none
	locked bool         // f holds the file lock
	write  bool
	// fi, when set (readers without the dot-lock, lockRead), is the file
	// as it was when the lock was taken: only [0, fi.Size()) may be read.
	fi os.FileInfo
}

// stat is the file as the operation must see it: for a reader without
// the dot-lock its size when locked (an appender that ignores the file
// lock may be writing after it), else the file now.
func (h *held) stat() (os.FileInfo, error) {
	if h.fi != nil {
		return h.fi, nil
	}
	return h.f.Stat()
}

// wakeup lets the goroutines of this process that wait for a lock this
// process gives up go on at once instead of at their next poll.
var wakeup = struct {
	sync.Mutex
	ch map[string]chan struct{}
}{ch: map[string]chan struct{}{}}

// released returns what is closed when this process next gives up the lock
// named key (a dot-lock's name, or "flock:" and the mailbox path).
func released(key string) <-chan struct{} {
	wakeup.Lock()
	defer wakeup.Unlock()
	c := wakeup.ch[key]
	if c == nil {
		c = make(chan struct{})
		wakeup.ch[key] = c
	}
	return c
}

// wake tells the waiters of released(key).
func wake(key string) {
	wakeup.Lock()
	c := wakeup.ch[key]
	delete(wakeup.ch, key)
	wakeup.Unlock()
	if c != nil {
		close(c)
	}
}

// pause waits for c or d, whichever comes first.
func pause(c <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	select {
	case <-c:
	case <-t.C:
	}
	t.Stop()
}

// flockBefore takes the file lock on f (the mailbox at path), waiting
// until deadline at the latest: woken at once when this process lets go
// of it, else looking again every poll.
func flockBefore(f *os.File, path string, m filelock.Mode, deadline time.Time) error {
	key := "flock:" + path
	for {
		c := released(key)
		ok, err := filelock.TryLock(f, m)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return filelock.ErrTimeout
		}
		pause(c, min(poll, left))
	}
}

// lockMailbox takes <path>.lock, then opens path and locks it (shared to
// read, exclusive to write), waiting up to opt.LockTimeout for each. flags
// are extra os.OpenFile flags (os.O_CREATE).
func lockMailbox(path string, opt *Options, write bool, flags int) (*held, error) {
	deadline := time.Now().Add(opt.lockTimeout())
	dot, err := dotLock(path, opt.lockHost(), deadline)
	if err != nil {
		return nil, err
	}
	mode := os.O_RDONLY
	if write {
		mode = os.O_RDWR
	}
	var f *os.File
	if write {
		// Create it if asked, then open it as the platform wants a file
		// we write (on Windows: with other writers shut out).
		if flags&os.O_CREATE != 0 {
			if cf, cerr := platform.OpenMailFile(path, os.O_RDONLY|flags, 0600); cerr == nil {
				cf.Close()
			}
		}
		f, err = platform.OpenMailFileForWrite(path, time.Until(deadline))
	} else {
		f, err = platform.OpenMailFile(path, mode|flags, 0600)
	}
	if err != nil {
		removeDot(dot)
		return nil, fmt.Errorf("open mailbox %s: %w", path, err)
	}
	h := &held{path: path, f: f, dot: dot, write: write}
	// The file lock (dmail.conf use_flock). Not on Windows: locks there are
	// mandatory and would shut the POP3/SMTP servers out of the file.
	if opt.useFlock() && filelock.Advisory {
		m := filelock.Shared
		if write {
			m = filelock.Exclusive
		}
		if err := flockBefore(f, path, m, deadline); err != nil {
			h.release()
			if errors.Is(err, filelock.ErrTimeout) {
				err = mailbox.ErrLocked
			}
			return nil, fmt.Errorf("lock mailbox %s: %w", path, err)
		}
		h.locked = true
	}
	return h, nil
}

// release drops the file lock, closes the file and removes the dot-lock.
func (h *held) release() error {
	var err error
	if h.locked {
		err = filelock.Unlock(h.f)
		h.locked = false
		defer wake("flock:" + h.path)
	}
	if cerr := h.f.Close(); err == nil {
		err = cerr
	}
	removeDot(h.dot)
	h.dot = nil
	return err
}

// lockRead locks the mailbox at path for reading. With the file lock
// (use_flock, and a system where it is advisory) a reader takes it shared
// and no dot-lock: readers never queue behind each other, and every writer
// that honours use_flock (imapd, UW, the DMail servers) waits for them, as
// they take the file lock exclusively to write. The dot-lock is looked at
// after the file lock is held and the file's size noted: when it exists
// (a writer, or a UW reader, is at work) the reader lets go and takes the
// dot-lock as a writer does. A writer that honours the dot-lock alone (an
// MTA appending) cannot start while no dot-lock exists; one that starts
// after the look writes after the noted size, which the reader never reads
// (held.fi). Without the file lock, or with lock_id (readsOnFileLock):
// lockMailbox (the dot-lock, then the file lock if any).
func lockRead(path string, opt *Options) (*held, error) {
	if !opt.useFlock() || !filelock.Advisory || !opt.readsOnFileLock() {
		return lockMailbox(path, opt, false, 0)
	}
	deadline := time.Now().Add(opt.lockTimeout())
	f, err := platform.OpenMailFile(path, os.O_RDONLY, 0600)
	if err != nil {
		return nil, fmt.Errorf("open mailbox %s: %w", path, err)
	}
	if err := flockBefore(f, path, filelock.Shared, deadline); err != nil {
		f.Close()
		if errors.Is(err, filelock.ErrTimeout) {
			err = mailbox.ErrLocked
		}
		return nil, fmt.Errorf("lock mailbox %s: %w", path, err)
	}
	h := &held{path: path, f: f, locked: true}
	fi, err := f.Stat()
	if err == nil {
		if _, lerr := os.Lstat(path + ".lock"); lerr != nil && errors.Is(lerr, fs.ErrNotExist) {
			h.fi = fi
			if testReadLocked != nil {
				testReadLocked(path)
			}
			return h, nil
		}
	}
	h.release()
	return lockMailbox(path, opt, false, 0)
}

// dotLockFile is a dot-lock we made: its name, and what it was when we made
// it, so that we never remove a lock that is no longer ours.
type dotLockFile struct {
	name string
	fi   os.FileInfo
}

// ours are the dot-locks this process holds now: a lock naming this
// process's PID that is not among them is a leftover of an earlier process
// that had the same PID (a restarted container's imapd is often PID 1).
var ours = struct {
	sync.Mutex
	names map[string]int
}{names: map[string]int{}}

// removeDot removes our dot-lock, unless someone replaced it meanwhile
// (seized it as stale after 5 minutes): that one is theirs.
func removeDot(dot *dotLockFile) {
	if dot == nil {
		return
	}
	if fi, err := os.Lstat(dot.name); err == nil && sameLock(fi, dot.fi) {
		os.Remove(dot.name)
	}
	ours.Lock()
	if ours.names[dot.name]--; ours.names[dot.name] <= 0 {
		delete(ours.names, dot.name)
	}
	ours.Unlock()
	wake(dot.name)
}

// dotLock makes <path>.lock, the lock the SMTP and POP3 servers honour,
// holding "<pid> <host>\n" (see doc.go), mode 0666 so that other users'
// servers may break it. It is made whole or not at all: the content goes
// to a file of our own name first, which is then linked to the lock name.
// A lock whose holder is provably gone (this host, no such process) is
// broken at once, any other one after staleLock (see seizeStale). A
// symbolic link in its place is refused. When the directory does not let
// us create files (a spool directory without the sticky 1777 mode), we go
// on without the dot-lock: the file lock still guards us (UW warns
// "Mailbox vulnerable" in that case).
func dotLock(path, host string, deadline time.Time) (*dotLockFile, error) {
	name := path + ".lock"
	content := []byte(strconv.Itoa(os.Getpid()) + " " + safeName(host) + "\n")
	for {
		c := released(name)
		if fi, err := os.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("lock %s is a symbolic link, refused", name)
		}
		fi, err := makeDot(name, host, content)
		if err == nil {
			ours.Lock()
			ours.names[name]++
			ours.Unlock()
			return &dotLockFile{name: name, fi: fi}, nil
		}
		var cur os.FileInfo
		switch {
		case errors.Is(err, fs.ErrExist):
			var why string
			switch cur, why = lockState(name, host); {
			case cur == nil:
				continue // just released: try again at once
			case why != "":
				seizeStale(name, cur, why)
				continue
			}
		case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
			return nil, nil
		default:
			return nil, fmt.Errorf("create lock %s: %w", name, err)
		}
		// Wait until the lock is given up (a look at its name every poll,
		// at once for a lock of this process), at most fullLook.
		look := time.Now().Add(fullLook)
		for {
			left := time.Until(deadline)
			if left <= 0 {
				return nil, fmt.Errorf("lock %s: %w", name, mailbox.ErrLocked)
			}
			pause(c, min(poll, left))
			select {
			case <-c:
			default:
				if fi, err := os.Lstat(name); err == nil && sameLock(fi, cur) && time.Now().Before(look) {
					continue
				}
			}
			break
		}
	}
}

// hitchSeq tells apart the temporary files of one process's goroutines.
var hitchSeq atomic.Uint64

// makeDot creates the lock name holding content, or fails with an error
// matching fs.ErrExist when it exists. The content is written to a file of
// our own (UW's "hitching post": <lock>.<time>.<pid>.<seq>.<host>) which
// is then hard-linked to name: the lock never exists empty or half
// written. link(2) fails when name exists, on NFS too (where O_EXCL was
// not always atomic). Where link fails otherwise (a file system without
// hard links), the lock is made with O_EXCL and written at once.
func makeDot(name, host string, content []byte) (os.FileInfo, error) {
	hitch := fmt.Sprintf("%s.%d.%d.%d.%s", name, time.Now().Unix(), os.Getpid(), hitchSeq.Add(1), safeName(host))
	if err := writeNew(hitch, content); err != nil {
		return nil, err
	}
	defer os.Remove(hitch)
	lerr := os.Link(hitch, name)
	// Success is the link count of our file, not link's answer: over NFS
	// a link that worked may report an error.
	hfi, herr := os.Lstat(hitch)
	if herr == nil {
		if nfi, err := os.Lstat(name); err == nil && os.SameFile(hfi, nfi) {
			return nfi, nil
		}
	}
	if lerr == nil || errors.Is(lerr, fs.ErrExist) {
		return nil, fs.ErrExist
	}
	// No hard links here (FAT, some network file systems; each says so
	// with its own error): O_EXCL, then the content.
	if err := writeNew(name, content); err != nil {
		return nil, err
	}
	return os.Lstat(name)
}

// writeNew creates name (O_EXCL, mode 0666 whatever the umask, best
// effort) holding content.
func writeNew(name string, content []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	f.Chmod(0o666) // on the file, not the name
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

// safeName makes a host name fit in a file name and on one line.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '/' || r == '\\' || r == ':' || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}

// lockState looks at the lock name someone else holds: cur is what it is
// (nil: gone meanwhile), why is non-empty when it may be broken now.
func lockState(name, host string) (cur os.FileInfo, why string) {
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ""
		}
		// Unreadable (another user's 0600 lock): the age still counts.
		fi, err := os.Lstat(name)
		if err != nil {
			return nil, ""
		}
		return fi, ageRule(fi)
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
	if why := ageRule(fi); why != "" {
		return fi, why
	}
	buf := make([]byte, 256)
	n, _ := io.ReadFull(f, buf)
	pid, h, ok := parseDot(buf[:n])
	if !ok || h != safeName(host) {
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
	if platform.ProcessGone(pid) {
		return fi, fmt.Sprintf("its holder, process %d on this host, is gone", pid)
	}
	return fi, ""
}

// ageRule: any lock older than staleLock may be broken.
func ageRule(fi os.FileInfo) string {
	if age := time.Since(fi.ModTime()); age > staleLock {
		return fmt.Sprintf("%d seconds old", int(age.Seconds()))
	}
	return ""
}

// parseDot reads "<pid> <host>\n", the dot-lock content we write. Anything
// else (empty, procmail's "0", a PID alone as liblockfile writes) is not
// ours: ok false.
func parseDot(b []byte) (pid int, host string, ok bool) {
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

// sameLock: the same lock file (inode numbers are reused at once, so the
// modification time must match too: nobody writes to a lock once made).
func sameLock(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime())
}

// seizeStale removes the lock name that may be broken (stale: what we
// looked at, why: the reason). Another process may have seized it just
// before us and made a fresh lock: so the lock is first renamed to a name
// of ours (atomic), and if what we moved is not the stale file, it is put
// back (os.Link fails if yet another lock was made meanwhile, which then
// stands).
func seizeStale(name string, stale os.FileInfo, why string) {
	mine := fmt.Sprintf("%s.%d.%d.seize", name, os.Getpid(), hitchSeq.Add(1))
	if err := os.Rename(name, mine); err != nil {
		return // gone already: try again
	}
	if fi, err := os.Lstat(mine); err == nil && !sameLock(fi, stale) {
		// A fresh lock: put it back. If yet another lock stands there now,
		// that one holds and the moved one is dropped.
		if err := os.Link(mine, name); err != nil && !errors.Is(err, fs.ErrExist) {
			os.Rename(mine, name) // no hard links on this file system
			return
		}
		os.Remove(mine)
		return
	}
	os.Remove(mine)
	platform.Warnf("broke the lock %s: %s", name, why)
}

// testReadLocked, set by tests, is called while a reader holds the file
// lock without the dot-lock.
var testReadLocked func(path string)

// HoldLock locks the mailbox file at path as a write does (the dot-lock,
// then the file lock), waiting up to opt.LockTimeout, until release is
// called: for a program that must keep imapd, the legacy servers and the
// MTAs off the file for a while.
func HoldLock(path string, opt Options) (release func() error, err error) {
	h, err := lockMailbox(path, &opt, true, 0)
	if err != nil {
		return nil, err
	}
	return h.release, nil
}
