// Package logging owns imapd.log: one line per event with time, pid and
// level, filtered by log_level and rotated at max_log_size.
//
// Line format (PROPOSAL from research/dmail.md §7, the legacy format is not
// documented):
//
//	2026-11-25 22:56:37 4242 INFO message
//
// local time, the process id, ERROR/INFO/DEBUG, then the message on the same
// line: CR, LF and other control characters in messages are escaped (\r, \n,
// \xNN) so one event is always one line.
//
// Many imapd processes (one per inetd connection) append to the same file at
// once. Every line is written with a single write(2) on an O_APPEND
// descriptor, so lines never interleave. Before each line the logger checks
// that the path still names the file it holds open (another process may have
// rotated it, or an administrator moved it away) and reopens it if not.
//
// Rotation (max_log_size, "Max size, in bytes, for the log file before
// renaming and starting new one"): when a line would take the file past
// maxSize, the logger takes an exclusive lock on <name>.log.lock
// (platform/filelock: flock, fcntl on Solaris/illumos, LockFileEx on
// windows), checks again under the
// lock, renames <name>.log to <name>.log.old (replacing an older .old) and
// starts a new <name>.log. Checking again under the lock is what keeps two
// processes from rotating twice and losing the first .old file. A failed
// rotation (a process that already switched to a user's uid cannot rename in
// the log directory; windows cannot rename a file others hold open) is not an
// error: the line is written to the current file and a later write retries.
//
// A Logger never stops the server: Open always returns a usable Logger; when
// the file cannot be opened the Logger discards lines and Open reports why in
// its error (in inetd mode stdout and often stderr are the client's socket,
// so there is nowhere else safe to write). A nil *Logger discards too.
package logging

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"imapd/platform/filelock"
)

// Level is how much is logged: log_level "error", "info" or "debug".
type Level int

// Levels, least verbose first. A Logger at level L writes events of level L
// and below.
const (
	LevelError Level = iota
	LevelInfo
	LevelDebug
)

// String returns the name used in log lines: ERROR, INFO or DEBUG.
func (l Level) String() string {
	switch l {
	case LevelError:
		return "ERROR"
	case LevelInfo:
		return "INFO"
	case LevelDebug:
		return "DEBUG"
	}
	return fmt.Sprintf("LEVEL%d", int(l))
}

// ParseLevel reads a log_level value: "error", "info" or "debug" in any case.
// For anything else it returns LevelInfo (the documented default) and an
// error.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error":
		return LevelError, nil
	case "info":
		return LevelInfo, nil
	case "debug":
		return LevelDebug, nil
	}
	return LevelInfo, fmt.Errorf("log level %q: want error, info or debug", s)
}

// Logger writes log lines. It is safe for concurrent use. The zero value is
// not usable; see New and Open. All methods accept a nil *Logger and do
// nothing.
type Logger struct {
	level Level
	pid   int

	mu sync.Mutex
	w  io.Writer // New: the writer; Open: the file, or io.Discard

	// Set by Open only.
	path    string
	maxSize int64
	f       *os.File
	lock    *os.File // <name>.log.lock; nil: rotation without a cross-process lock is not attempted
	now     func() time.Time
}

// New returns a Logger writing to w, one Write call per line.
func New(w io.Writer, level Level) *Logger {
	return &Logger{level: level, pid: os.Getpid(), w: w, now: time.Now}
}

// Open returns a Logger appending to <dir>/<name>.log, rotated to
// <name>.log.old when a line would take it past maxSize bytes (0: never).
// It always returns a usable Logger: if the file cannot be opened the Logger
// discards what it is given and the error says why.
func Open(dir, name string, level Level, maxSize int64) (*Logger, error) {
	l := New(io.Discard, level)
	l.path = filepath.Join(dir, name+".log")
	l.maxSize = maxSize
	f, err := openLog(l.path)
	if err != nil {
		l.path = ""
		return l, fmt.Errorf("open log file: %w", err)
	}
	l.f = f
	l.w = f
	if maxSize > 0 {
		// Open the lock file now, while the process may still be root: a
		// session later runs with the user's uid and could not open it then.
		lock, err := openLock(l.path + ".lock")
		if err != nil {
			return l, fmt.Errorf("open log lock file (log rotation disabled): %w", err)
		}
		l.lock = lock
	}
	return l, nil
}

// openLock opens (creating it world-writable, so that processes of any user
// can lock it) the rotation lock file, for writing: fcntl write locks need
// it.
func openLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm() != 0o666 {
		f.Chmod(0o666) // best effort: only the owner may; umask made it narrower
	}
	return f, nil
}

// Level returns the logger's level.
func (l *Logger) Level() Level {
	if l == nil {
		return LevelError
	}
	return l.level
}

// Enabled reports whether events of level lv are written.
func (l *Logger) Enabled(lv Level) bool {
	return l != nil && lv <= l.level
}

// Errorf logs an error: something failed that an administrator should see.
func (l *Logger) Errorf(format string, args ...any) { l.logf(LevelError, format, args) }

// Infof logs a normal event (logins, logouts).
func (l *Logger) Infof(format string, args ...any) { l.logf(LevelInfo, format, args) }

// Debugf logs detail for troubleshooting.
func (l *Logger) Debugf(format string, args ...any) { l.logf(LevelDebug, format, args) }

// Close closes the log file. Later lines are discarded.
func (l *Logger) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var err error
	if l.f != nil {
		err = l.f.Close()
		l.f = nil
	}
	if l.lock != nil {
		l.lock.Close()
		l.lock = nil
	}
	l.path = ""
	l.w = io.Discard
	return err
}

func (l *Logger) logf(lv Level, format string, args []any) {
	if !l.Enabled(lv) {
		return
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	line := l.format(lv, msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.path != "" {
		l.prepare(int64(len(line)))
	}
	l.w.Write(line)
}

func (l *Logger) format(lv Level, msg string) []byte {
	b := make([]byte, 0, 40+len(msg))
	b = l.now().AppendFormat(b, "2006-01-02 15:04:05")
	b = fmt.Appendf(b, " %d %s ", l.pid, lv)
	b = appendEscaped(b, msg)
	return append(b, '\n')
}

// appendEscaped appends msg with control characters (and invalid UTF-8)
// escaped so that it stays on one line.
func appendEscaped(b []byte, msg string) []byte {
	for i := 0; i < len(msg); {
		c := msg[i]
		switch {
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, c)
		case c < 0x20 || c == 0x7f:
			b = fmt.Appendf(b, `\x%02x`, c)
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			r, size := utf8.DecodeRuneInString(msg[i:])
			if r == utf8.RuneError && size == 1 {
				b = fmt.Appendf(b, `\x%02x`, c)
			} else {
				b = append(b, msg[i:i+size]...)
			}
			i += size
			continue
		}
		i++
	}
	return b
}

// prepare makes l.f the file the path names now, rotating it first if a line
// of n bytes would take it past maxSize. Called with l.mu held. Failures keep
// the current descriptor: logging goes on in the file we have.
func (l *Logger) prepare(n int64) {
	size, ok := l.current()
	if !ok || l.maxSize <= 0 || size+n <= l.maxSize || l.lock == nil {
		return
	}
	if err := filelock.Lock(l.lock, filelock.Exclusive); err != nil {
		return
	}
	defer filelock.Unlock(l.lock)
	// Again under the lock: another process may have rotated meanwhile.
	size, ok = l.current()
	if !ok || size+n <= l.maxSize {
		return
	}
	if err := os.Rename(l.path, l.path+".old"); err != nil {
		return
	}
	f, err := openLog(l.path)
	if err != nil {
		return
	}
	l.f.Close()
	l.f, l.w = f, f
}

// current reopens the log if the path no longer names the file held open,
// and returns the size of the file held open.
func (l *Logger) current() (size int64, ok bool) {
	held, err := l.f.Stat()
	if err != nil {
		return 0, false
	}
	named, err := os.Stat(l.path)
	if err == nil && os.SameFile(held, named) {
		return held.Size(), true
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return held.Size(), true
	}
	f, err := openLog(l.path)
	if err != nil {
		return held.Size(), true
	}
	l.f.Close()
	l.f, l.w = f, f
	fi, err := f.Stat()
	if err != nil {
		return 0, false
	}
	return fi.Size(), true
}
