package maildir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"imapd/mailbox"
	"imapd/platform"
)

// The lock files (imapd-uidlist.lock, the user's .imapd-uidvalidity.lock)
// follow the rules of the mbox dot-lock (mailbox/mbox/lock.go), so that a
// lock is broken only when its holder is gone:
//
//   - it is made with O_EXCL and holds "<pid> <host>\n";
//   - a lock of this host whose process is gone is broken at once;
//   - any other lock is broken when it is older than staleLock; a holder
//     keeps its lock young by touching it every refreshEvery while it holds
//     it, so a live holder that runs long (the first open of a big maildir
//     another program wrote, every file read once) is never taken for dead;
//   - breaking renames the lock to a name of our own first and checks that
//     what was moved is the stale file looked at (same file, same time); a
//     fresh lock moved by mistake (refreshed, or made anew meanwhile) is put
//     back, so breaking a stale lock never breaks a live one;
//   - a holder removes its lock only while it is still its own.
var (
	staleLock    = 2 * time.Minute
	refreshEvery = staleLock / 4
)

const maxPoll = 10 * time.Millisecond

// ours counts the lock files this process holds: a lock naming our PID
// that is not among them was left by an earlier process with that PID.
var ours = struct {
	sync.Mutex
	names map[string]int
}{names: map[string]int{}}

// seizeSeq tells apart the names this process moves locks to.
var seizeSeq atomic.Uint64

// lockList takes dir's uid list lock, waiting up to timeout.
func lockList(dir string, timeout time.Duration) (func(), error) {
	return lockFile(filepath.Join(dir, lockName), timeout)
}

// lockFile takes the lock file path, waiting up to timeout; the returned
// function releases it. While held it is refreshed every refreshEvery.
func lockFile(path string, timeout time.Duration) (func(), error) {
	host := lockHost()
	content := []byte(strconv.Itoa(os.Getpid()) + " " + host + "\n")
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		// Counted as ours before it exists: another goroutine that finds
		// it with our PID must not take it for an earlier process's.
		ours.Lock()
		ours.names[path]++
		ours.Unlock()
		fi, err := makeLock(path, content)
		if err == nil {
			return holdLock(path, fi), nil
		}
		unown(path)
		if busy(err) {
			// Windows: the lock just removed is still open by a reader
			// (delete pending); it goes when the reader closes it.
			err = fs.ErrExist
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		switch cur, why := lockState(path, host); {
		case cur == nil:
			continue // released meanwhile: try again at once
		case why != "":
			seizeStale(path, cur, why)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("lock %s: %w", path, mailbox.ErrLocked)
		}
		time.Sleep(wait)
		wait = min(2*wait, maxPoll)
	}
}

// makeLock creates the lock with O_EXCL and writes content; it fails with
// an error matching fs.ErrExist when the lock exists. A reader that finds
// it still empty judges it by its age only.
func makeLock(path string, content []byte) (os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	return lstatNow(path)
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

// holdLock keeps the lock made as fi young until the returned function
// releases it.
func holdLock(path string, fi os.FileInfo) func() {
	var mu sync.Mutex // fi, between the refresher and release
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(refreshEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mu.Lock()
				if cur, err := os.Lstat(path); err == nil && sameLock(cur, fi) {
					now := time.Now()
					if os.Chtimes(path, now, now) == nil {
						if nfi, err := lstatNow(path); err == nil {
							fi = nfi
						}
					}
				}
				mu.Unlock()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			mu.Lock()
			if cur, err := os.Lstat(path); err == nil && sameLock(cur, fi) {
				retryBusy(func() error { return os.Remove(path) })
			}
			mu.Unlock()
			unown(path)
		})
	}
}

// unown undoes one count of path in ours.
func unown(path string) {
	ours.Lock()
	if ours.names[path]--; ours.names[path] <= 0 {
		delete(ours.names, path)
	}
	ours.Unlock()
}

// lockHost names this host in lock files.
func lockHost() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '/' || r == '\\' || r == ':' || r == 0x7f {
			return '_'
		}
		return r
	}, h)
}

// lockState looks at a lock someone holds: cur is what it is (nil: gone
// meanwhile); why is non-empty when it may be broken now.
func lockState(path, host string) (cur os.FileInfo, why string) {
	if !readLocks {
		fi, err := lstatNow(path)
		if err != nil {
			return nil, ""
		}
		return fi, ageRule(fi)
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ""
		}
		fi, err := lstatNow(path)
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
	if lfi, err := os.Lstat(path); err != nil || !os.SameFile(fi, lfi) {
		return nil, "" // replaced meanwhile: look again
	}
	if why := ageRule(fi); why != "" {
		return fi, why
	}
	buf := make([]byte, 256)
	n, _ := io.ReadFull(f, buf)
	pid, h, ok := parseLock(buf[:n])
	if !ok || h != host {
		return fi, "" // another host's, or not written yet: the age rule
	}
	if pid == os.Getpid() {
		ours.Lock()
		mine := ours.names[path] > 0
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

// ageRule: a lock not refreshed for staleLock may be broken.
func ageRule(fi os.FileInfo) string {
	if age := time.Since(fi.ModTime()); age > staleLock {
		return fmt.Sprintf("%d seconds old", int(age.Seconds()))
	}
	return ""
}

// parseLock reads "<pid> <host>\n".
func parseLock(b []byte) (pid int, host string, ok bool) {
	line, rest, found := bytes.Cut(b, []byte("\n"))
	if !found || len(bytes.TrimSpace(rest)) > 0 {
		return 0, "", false
	}
	p, h, found := bytes.Cut(line, []byte(" "))
	if !found || len(h) == 0 {
		return 0, "", false
	}
	n, err := strconv.Atoi(string(p))
	if err != nil || n <= 0 {
		return 0, "", false
	}
	return n, string(h), true
}

// sameLock: the same lock file at the same time (inode numbers are reused,
// and a refresh changes the time).
func sameLock(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime())
}

// seizeStale removes the stale lock path looked at as stale: moved to a
// name of ours first; if what was moved is not that file (refreshed by
// its holder, or made anew), it is put back.
func seizeStale(path string, stale os.FileInfo, why string) {
	mine := fmt.Sprintf("%s.%d.%d.seize", path, os.Getpid(), seizeSeq.Add(1))
	if err := os.Rename(path, mine); err != nil {
		return // gone already: try again
	}
	if fi, err := lstatNow(mine); err == nil && !sameLock(fi, stale) {
		if err := os.Link(mine, path); err != nil && !errors.Is(err, fs.ErrExist) {
			os.Rename(mine, path) // no hard links on this file system
			return
		}
		os.Remove(mine)
		return
	}
	os.Remove(mine)
	platform.Warnf("broke the lock %s: %s", path, why)
}
