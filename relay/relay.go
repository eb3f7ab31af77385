// Package relay keeps the forward_user records: POP-before-SMTP relaying.
// After each login whose password was right, imapd (with forward_user
// true) records the client's IP address, the user and the time in one
// file that the SMTP server's relay check reads: a client that logged in
// less than forward_window seconds ago may relay mail.
//
// The file is Path(cfg): <work_path>/forward.dat, else forward.dat in the
// directory of dmail.conf. It is text, one record per line, oldest first:
//
//	<unix time> <client IP> <user>
//
// for example "1767225600 192.0.2.7 alice". There is one line per client
// IP address (its latest login); records older than forward_window are
// dropped at every write, and at most MaxRecords are kept (the oldest go
// first), so the file stays small. A reader ignores lines it cannot parse
// and records older than its window.
//
// Writers (many imapd processes at once) take the lock file forward.dat.lock
// (platform/filelock), read the file, write forward.dat.new and rename it
// over forward.dat, so a reader never sees a half-written file and needs no
// lock. The format is imapd's own: DMail's DSMTP keeps its records
// elsewhere and does not read this file; an MTA policy hook can (imapd
// -relay-check IP, or Allowed).
package relay

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"imapd/config"
	"imapd/platform/filelock"
)

// FileName is the records file's name in its directory.
const FileName = "forward.dat"

// MaxRecords bounds the file: with more recent logins than this, the
// oldest records go.
const MaxRecords = 10000

// lockWait bounds how long a login waits for another process's write.
const lockWait = 5 * time.Second

// maxLine bounds one line a reader accepts.
const maxLine = 1024

// Path is the records file cfg names: <work_path>/forward.dat, else
// forward.dat next to the main configuration file; "" when neither is known.
func Path(cfg *config.Config) string {
	dir := cfg.WorkPath
	if dir == "" && len(cfg.Files) > 0 {
		dir = filepath.Dir(cfg.Files[0])
	}
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, FileName)
}

// Record is one login.
type Record struct {
	Time time.Time
	IP   netip.Addr
	User string
}

// Add records a login of user from ip at now in the file path, dropping
// records older than window (window <= 0: nothing is recorded, as a record
// would be stale at once).
func Add(path, ip, user string, now time.Time, window time.Duration) error {
	if window <= 0 {
		return nil
	}
	addr, err := parseIP(ip)
	if err != nil {
		return fmt.Errorf("forward_user record: client address %q: %w", ip, err)
	}
	if user == "" || strings.ContainsAny(user, " \t\r\n\x00") {
		user = "-" // a name that cannot be one field is not worth a broken line
	}
	unlock, err := filelock.LockPath(path+".lock", 0o600, lockWait)
	if err != nil {
		return fmt.Errorf("forward_user record: %w", err)
	}
	defer unlock()
	recs, err := Read(path)
	if err != nil {
		return fmt.Errorf("forward_user record: %w", err)
	}
	recs = slices.DeleteFunc(recs, func(r Record) bool {
		return r.IP == addr || !fresh(r, now, window)
	})
	recs = append(recs, Record{Time: now, IP: addr, User: user})
	slices.SortStableFunc(recs, func(a, b Record) int { return a.Time.Compare(b.Time) })
	if len(recs) > MaxRecords {
		recs = recs[len(recs)-MaxRecords:]
	}
	var b bytes.Buffer
	for _, r := range recs {
		fmt.Fprintf(&b, "%d %s %s\n", r.Time.Unix(), r.IP, r.User)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("forward_user record: %w", err)
	}
	if err := replace(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("forward_user record: %w", err)
	}
	return nil
}

// replace renames tmp over path; on Windows a reader holding path open
// makes the rename fail for a moment, so it is tried for a while.
func replace(tmp, path string) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = os.Rename(tmp, path); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// Read returns every record of the file path that parses (none when the
// file does not exist).
func Read(path string) ([]Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 256), maxLine)
	for sc.Scan() {
		if r, ok := parseLine(sc.Text()); ok {
			recs = append(recs, r)
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return recs, nil
}

func parseLine(line string) (Record, bool) {
	f := strings.Fields(line)
	if len(f) != 3 {
		return Record{}, false
	}
	sec, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || sec < 0 {
		return Record{}, false
	}
	ip, err := parseIP(f[1])
	if err != nil {
		return Record{}, false
	}
	return Record{Time: time.Unix(sec, 0), IP: ip, User: f[2]}, true
}

func parseIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap().WithZone(""), nil
}

func fresh(r Record, now time.Time, window time.Duration) bool {
	age := now.Sub(r.Time)
	return age < window && age > -time.Minute // a clock step back of up to a minute is tolerated
}

// Allowed reports whether ip logged in less than window before now, and
// the record that says so.
func Allowed(path, ip string, now time.Time, window time.Duration) (Record, bool, error) {
	addr, err := parseIP(ip)
	if err != nil {
		return Record{}, false, fmt.Errorf("%q is not an IP address", ip)
	}
	recs, err := Read(path)
	if err != nil {
		return Record{}, false, err
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].IP == addr && fresh(recs[i], now, window) {
			return recs[i], true, nil
		}
	}
	return Record{}, false, nil
}
