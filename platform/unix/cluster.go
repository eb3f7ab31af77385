//go:build unix

package unix

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"imapd/platform/dotlock"
)

// The cluster session lock replaces UW's /tmp/.<dev>.<ino> when lock_id is
// set (several servers over one spool, usually NFS): /tmp is each host's
// own, so a lock there is not seen by the other hosts. It lives beside the
// mailbox instead, in the mailbox's directory, named by the mailbox's inode
// number (the same on every NFS client of one export, unlike st_dev):
//
//	<directory of the mailbox>/.imapd-session.<inode hex>
//
// (".imapd" names are never listed as mailboxes, see package folders). It
// holds "<pid> <lock_id>\n", as imapd's dot-locks do, and is made the way
// the dot-locks are: written whole to a hitching post of our own name, then
// link(2)ed to the lock name (link fails when the name exists, over NFS
// too; success is judged by the link count, not by link's answer). No
// flock: flock over NFS is emulated, or not shared between clients, and
// cannot be trusted across hosts.
//
// A later session (any host) that finds the lock asks for it by appending
// a line to the lock file ("<pid> <lock_id> wants\n"): the holder polls
// its lock file (ClusterLock.Check, every ClusterPoll), sees it grow and
// lets go, as UW's kiss of death has it; a signal cannot cross hosts. The
// holder rewrites its line every ClusterRefresh, so that the file
// server's clock stamps the file as alive. A lock is broken:
//
//   - at once when it names this server (lock_id) and a process that no
//     longer exists here, or this process without this process holding it
//     (left by an earlier process with the same PID);
//   - when it was not refreshed for ClusterStale, measured on the file
//     server's clock (the modification time of a hitching post we just
//     made is "now" there), so clock skew between hosts does not matter.
//
// A holder whose lock was broken (its host was cut off longer than
// ClusterStale) sees at its next Check that the name is no longer its file,
// and lets go too.

// Times of the cluster session lock.
var (
	ClusterPoll    = time.Second      // how often a holder looks at its lock file
	ClusterRefresh = 10 * time.Second // how often a holder stamps it
	ClusterStale   = time.Minute      // unstamped that long: its host is dead
)

// ClusterLockPrefix starts the name of every cluster session lock file
// (and of its hitching posts).
const ClusterLockPrefix = ".imapd-session."

// ClusterLockName is the cluster session lock of the mailbox at path (fi
// describes it).
func ClusterLockName(path string, fi os.FileInfo) (string, bool) {
	_, ino, ok := inode(fi)
	if !ok {
		return "", false
	}
	return filepath.Join(filepath.Dir(path), ClusterLockPrefix+strconv.FormatUint(ino, 16)), true
}

// ClusterHolder is who holds a cluster session lock someone else has.
type ClusterHolder struct {
	PID  int
	Host string // the holder's lock_id ("" when the file could not be parsed)
}

// ClusterLock is a held cluster session lock.
type ClusterLock struct {
	name    string
	line    []byte
	mu      sync.Mutex
	f       *os.File    // open on the lock file: the refreshes go through it
	fi      os.FileInfo // the lock file when we made it
	stamped time.Time   // when we last rewrote our line (our clock)
	done    chan struct{}
}

// Name is the lock file's path.
func (l *ClusterLock) Name() string { return l.name }

// Done is closed when the lock is unlocked.
func (l *ClusterLock) Done() <-chan struct{} { return l.done }

// clusterOurs are the cluster locks this process holds (by name): a lock
// naming our PID that is not among them is a leftover.
var clusterOurs = struct {
	sync.Mutex
	names map[string]bool
}{names: map[string]bool{}}

// clusterSeq tells apart the names a lock is broken under.
var clusterSeq atomic.Uint64

// TryClusterLock takes the cluster session lock of the mailbox at path (fi
// describes it) for the server named id (lock_id), without waiting. When
// someone else holds it, the lock is nil, holder says who, and the holder
// has been asked to let go (a line appended to its lock file). A lock of a
// dead holder is broken (see above) and warn is told. An error means no
// lock can be had (unsafe name, a directory we may not write), or it is
// ErrForeignLock: a lock file owned by a user who is neither the mailbox's
// owner nor root nor us, that we could not remove.
func TryClusterLock(path string, fi os.FileInfo, id string, warn func(string)) (*ClusterLock, ClusterHolder, error) {
	name, ok := ClusterLockName(path, fi)
	if !ok {
		return nil, ClusterHolder{}, fmt.Errorf("session lock: no inode for %s", path)
	}
	owner, _ := ownerOf(fi)
	line := []byte(strconv.Itoa(os.Getpid()) + " " + SafeLockID(id) + "\n")
	for round := 0; round < 20; round++ {
		l, now, err := linkLock(name, line)
		if err == nil {
			return l, ClusterHolder{}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, ClusterHolder{}, err
		}
		f, err := os.OpenFile(name, os.O_RDWR|unix.O_NOFOLLOW, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue // let go meanwhile: try again
		}
		if err != nil {
			if errors.Is(err, unix.ELOOP) {
				return nil, ClusterHolder{}, fmt.Errorf("session lock %s: %w", name, ErrUnsafeLock)
			}
			return nil, ClusterHolder{}, fmt.Errorf("open session lock %s: %w", name, err)
		}
		// fstat of an open file: on NFS, open revalidates the attributes
		// (close-to-open), a stat by name may answer from the cache.
		lfi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, ClusterHolder{}, fmt.Errorf("session lock %s: %w", name, err)
		}
		if !lfi.Mode().IsRegular() {
			f.Close()
			return nil, ClusterHolder{}, fmt.Errorf("session lock %s: %w", name, ErrUnsafeLock)
		}
		if !trustedLock(lfi, owner) {
			f.Close()
			uid, _ := ownerOf(lfi)
			if err := foreignLock(name, lfi, uid, owner, "owned by uid", warn); err != nil {
				return nil, ClusterHolder{}, err
			}
			continue
		}
		buf := make([]byte, 512)
		n, _ := f.ReadAt(buf, 0)
		h, asked := parseClusterLock(buf[:n])
		if why := staleCluster(name, h, lfi, now, id); why != "" {
			f.Close()
			if breakLock(name, lfi) && warn != nil {
				warn(fmt.Sprintf("broke the session lock %s: %s", name, why))
			}
			continue
		}
		if !asked {
			// One request is enough; the file stays small.
			want := []byte(strconv.Itoa(os.Getpid()) + " " + SafeLockID(id) + " wants\n")
			_, _ = f.WriteAt(want, lfi.Size())
			_ = f.Sync()
		}
		f.Close()
		return nil, h, nil
	}
	return nil, ClusterHolder{}, fmt.Errorf("session lock %s: keeps changing under us", name)
}

// linkLock makes the lock name holding line through a hitching post
// (dotlock.Hitch: link(2), judged by the link, mode 0666 whatever the
// umask so that every user's sessions ask through it, the line flushed
// before the link); now is the file server's time (the hitching post's
// modification time), also when the lock exists (the error then matches
// fs.ErrExist).
func linkLock(name string, line []byte) (*ClusterLock, time.Time, error) {
	f, fi, now, err := dotlock.Hitch(name, line, dotlock.Post{Mode: 0o666, Sync: true, Keep: true})
	switch {
	case err == nil:
		l := &ClusterLock{name: name, line: line, f: f, fi: fi, stamped: time.Now(), done: make(chan struct{})}
		clusterOurs.Lock()
		clusterOurs.names[name] = true
		clusterOurs.Unlock()
		return l, now, nil
	case errors.Is(err, fs.ErrExist):
		return nil, now, fs.ErrExist
	case errors.Is(err, unix.ELOOP):
		return nil, now, fmt.Errorf("session lock %s: %w", name, ErrUnsafeLock)
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, unix.EROFS):
		return nil, now, fmt.Errorf("create session lock beside %s: the directory must let the user create files: %w", name, err)
	}
	return nil, now, fmt.Errorf("session lock %s: %w", name, err)
}

// parseClusterLock reads "<pid> <lock_id>\n", then the requests; asked
// reports a request line.
func parseClusterLock(b []byte) (h ClusterHolder, asked bool) {
	first, rest, _ := bytes.Cut(b, []byte("\n"))
	if p, host, ok := strings.Cut(string(first), " "); ok {
		if n, err := strconv.Atoi(p); err == nil && n > 0 && strconv.Itoa(n) == p && host != "" && !strings.ContainsAny(host, " \t\r") {
			h = ClusterHolder{PID: n, Host: host}
		}
	}
	return h, len(bytes.TrimSpace(rest)) > 0
}

// staleCluster says why the lock (h read from it, lfi its attributes,
// now the file server's time) may be broken, or "".
func staleCluster(name string, h ClusterHolder, lfi os.FileInfo, now time.Time, id string) string {
	if h.PID > 0 && h.Host == SafeLockID(id) {
		if h.PID == os.Getpid() {
			clusterOurs.Lock()
			mine := clusterOurs.names[name]
			clusterOurs.Unlock()
			if !mine {
				return fmt.Sprintf("left by an earlier process with our PID %d", h.PID)
			}
			return ""
		}
		if processGone(h.PID) {
			return fmt.Sprintf("its holder, process %d on this host, is gone", h.PID)
		}
	}
	if age := now.Sub(lfi.ModTime()); age > ClusterStale {
		who := "an unreadable holder"
		if h.PID > 0 {
			who = fmt.Sprintf("process %d on %s", h.PID, h.Host)
		}
		return fmt.Sprintf("%s did not refresh it for %d seconds", who, int(age.Seconds()))
	}
	return ""
}

func processGone(pid int) bool {
	return errors.Is(unix.Kill(pid, 0), unix.ESRCH)
}

// breakLock removes the lock name if it still is what lfi describes:
// renamed to a name of ours first (atomic), put back when what we moved
// is a fresh lock someone made meanwhile.
func breakLock(name string, lfi os.FileInfo) bool {
	mine := fmt.Sprintf("%s.%d.%d.break", name, os.Getpid(), clusterSeq.Add(1))
	if err := os.Rename(name, mine); err != nil {
		return false
	}
	if fi, err := os.Lstat(mine); err == nil && !(os.SameFile(fi, lfi) && fi.ModTime().Equal(lfi.ModTime())) {
		if err := os.Link(mine, name); err != nil && !errors.Is(err, fs.ErrExist) {
			os.Rename(mine, name)
			return false
		}
		os.Remove(mine)
		return false
	}
	os.Remove(mine)
	return true
}

// ClusterCheck is what a holder learns by looking at its lock file.
type ClusterCheck int

// Outcomes of ClusterLock.Check.
const (
	ClusterHeld   ClusterCheck = iota // still ours, nobody asked
	ClusterWanted                     // another session asked for it
	ClusterLost                       // no longer ours (broken as stale, removed)
)

// Check looks at the lock file (by name, so that a replaced file is
// seen), and stamps it when ClusterRefresh has passed. Called by the
// holder every ClusterPoll.
func (l *ClusterLock) Check() ClusterCheck {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ClusterLost
	}
	f, err := os.OpenFile(l.name, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return ClusterLost
		}
		return ClusterHeld // the file server does not answer: keep it, look again
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return ClusterHeld
	}
	if !os.SameFile(fi, l.fi) {
		return ClusterLost
	}
	if fi.Size() > int64(len(l.line)) {
		return ClusterWanted
	}
	if time.Since(l.stamped) >= ClusterRefresh {
		l.stampLocked()
	}
	return ClusterHeld
}

// Stamp rewrites our line now (the file server sets the modification
// time): the lock is alive.
func (l *ClusterLock) Stamp() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stampLocked()
}

func (l *ClusterLock) stampLocked() {
	if l.f == nil {
		return
	}
	if _, err := l.f.WriteAt(l.line, 0); err == nil {
		_ = l.f.Sync()
		l.stamped = time.Now()
	}
}

// Unlock removes the lock file when the name is still ours and lets go.
func (l *ClusterLock) Unlock() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	var err error
	if fi, serr := os.Lstat(l.name); serr == nil && os.SameFile(fi, l.fi) {
		if rerr := os.Remove(l.name); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = fmt.Errorf("remove session lock: %w", rerr)
		}
	}
	l.f.Close()
	l.f = nil
	clusterOurs.Lock()
	delete(clusterOurs.names, l.name)
	clusterOurs.Unlock()
	close(l.done)
	return err
}

// ClusterHeldBy reports whether another session (of any host) holds the
// cluster session lock of the mailbox at path: the file exists, is
// trusted, and does not name a holder of this server that is gone. Its
// age is not judged here (that needs the file server's time, which only
// a write tells): a lock of a dead host counts until a SELECT breaks it.
func ClusterHeldBy(path string, fi os.FileInfo, id string) bool {
	name, ok := ClusterLockName(path, fi)
	if !ok {
		return false
	}
	f, err := os.OpenFile(name, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return errors.Is(err, unix.ELOOP)
	}
	defer f.Close()
	lfi, err := f.Stat()
	if err != nil || !lfi.Mode().IsRegular() {
		return err == nil
	}
	if owner, _ := ownerOf(fi); !trustedLock(lfi, owner) {
		return false
	}
	buf := make([]byte, 512)
	n, _ := f.ReadAt(buf, 0)
	h, _ := parseClusterLock(buf[:n])
	return staleCluster(name, h, lfi, lfi.ModTime(), id) == ""
}

// SafeLockID makes a lock_id fit in a file and on one line, as the
// dot-locks write it.
func SafeLockID(s string) string { return dotlock.SafeName(s) }
