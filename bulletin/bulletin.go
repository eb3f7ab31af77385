// Package bulletin delivers bulletins (bulletin_path, bulletin_from): files
// nnn.txt that every user receives once, as an ordinary message appended
// to their INBOX at login, as DMail's DPOP does.
//
// Layout. bulletin_path holds the bulletins of every user; a virtual
// domain's users also get those in bulletin_path/<domain>/ (the domain name
// in lower case, as in the vdomain line). Numbering is per directory: a
// bulletin is delivered when its number is above the last one the user got
// from that directory. A file name is a number of 1 to 9 digits and ".txt"
// (007.txt is bulletin 7); other files are ignored.
//
// The user's state is the file <drop file>.bul, next to the drop file,
// written as <drop file>.bul.new and renamed over it: one line per
// directory, "<key> <number>", the key "*" for bulletin_path itself and the
// domain for a domain directory:
//
//   - 12
//     shop.example.org 3
//
// Removing it makes the user receive every bulletin present again (with
// DPOP's hide_old_bulls true: none of them, the file is written with the
// newest numbers); editing a number sets where they are. A directory that exists and holds no
// bulletin resets the user's number for it to 0 at their next login, so
// numbering can start again at 1 (DMail resets every user when DPOP starts
// with an empty directory; imapd does it user by user, so empty the
// directory until every user has logged in once, or remove the .bul files).
//
// One delivery at a time per user: Deliver holds the lock file
// <drop file>.bul.lock (platform/filelock) from reading the state to writing
// it, so concurrent logins of a user deliver each bulletin exactly once. The
// number is written after each bulletin is appended; a crash between the two
// delivers that bulletin again at the next login.
//
// The message. A file whose first line is a header field ("Name: value")
// begins with its own header block, kept as it is up to the first empty
// line; the rest is the body. Otherwise the whole file is the body. Missing
// headers are added: From (bulletin_from, see FromHeader), To (the user),
// Subject ("Bulletin <n>"), Date (the file's modification time),
// Message-ID, and for a body that is UTF-8 with 8-bit characters MIME-Version
// and Content-Type text/plain; charset=utf-8. A file that cannot be read,
// is empty, larger than MaxSize or holds a NUL byte is malformed: it is logged and skipped (the user's number moves past it),
// never half delivered.
package bulletin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"imapd/platform/filelock"
)

// MaxSize bounds a bulletin file.
const MaxSize = 1 << 20

// lockWait bounds how long a login waits for another login's delivery.
const lockWait = 30 * time.Second

// Dir is one directory of bulletins and the key of its number in the
// user's state.
type Dir struct {
	Key  string // "*" for bulletin_path, else the domain
	Path string
}

// Dirs returns the directories a user of domain ("" for the main domain)
// receives bulletins from; none when bulletinPath is "".
func Dirs(bulletinPath, domain string) []Dir {
	if bulletinPath == "" {
		return nil
	}
	dirs := []Dir{{Key: "*", Path: bulletinPath}}
	d := strings.ToLower(domain)
	if d != "" && d != "*" && !strings.ContainsAny(d, `/\ `) && d != "." && d != ".." {
		dirs = append(dirs, Dir{Key: d, Path: filepath.Join(bulletinPath, d)})
	}
	return dirs
}

// Recipient is who gets the bulletins.
type Recipient struct {
	DropFile string // their INBOX; the state lives next to it
	To       string // the To header's address, e.g. alice@example.org
	From     string // bulletin_from
	Host     string // for Message-ID and the From address: host_domain or the host name
	// HideOld is DPOP's hide_old_bulls: a user without a state file yet
	// (new, or new to imapd) is set at the newest bulletin of each
	// directory instead of receiving the ones already there.
	HideOld bool
}

// Logf receives what is worth logging (skipped files, failures).
type Logf func(format string, args ...any)

// Deliver appends every bulletin of dirs that r has not received yet to
// their INBOX through appendMsg (the session's ordinary append, with the
// mailbox locking of any delivery), oldest first, and records each. It
// returns how many were delivered; an error stops it (the rest come at the
// next login).
func Deliver(dirs []Dir, r Recipient, appendMsg func(msg []byte, date time.Time) error, logf Logf) (int, error) {
	if len(dirs) == 0 {
		return 0, nil
	}
	statePath := r.DropFile + ".bul"
	unlock, err := filelock.LockPath(statePath+".lock", 0o600, lockWait)
	if err != nil {
		return 0, fmt.Errorf("bulletins: %w", err)
	}
	defer unlock()
	state, err := readState(statePath)
	if err != nil {
		return 0, fmt.Errorf("bulletins: %w", err)
	}
	if state == nil {
		state = map[string]int{}
		if r.HideOld {
			for _, d := range dirs {
				if files, _, err := list(d.Path); err == nil && len(files) > 0 {
					state[d.Key] = files[len(files)-1].num
				}
			}
			if err := writeState(statePath, state); err != nil {
				return 0, fmt.Errorf("bulletins: %w", err)
			}
			return 0, nil
		}
	}
	n := 0
	for _, d := range dirs {
		files, exists, err := list(d.Path)
		if err != nil {
			logf("bulletins: %v", err)
			continue
		}
		if !exists {
			continue
		}
		if len(files) == 0 {
			if state[d.Key] != 0 {
				state[d.Key] = 0
				if err := writeState(statePath, state); err != nil {
					return n, fmt.Errorf("bulletins: %w", err)
				}
			}
			continue
		}
		for _, e := range files {
			num := e.num
			if num <= state[d.Key] {
				continue
			}
			file := filepath.Join(d.Path, e.name)
			msg, date, err := Build(file, num, d.Key, r)
			if err != nil {
				logf("bulletins: %s skipped: %v", file, err)
			} else if err := appendMsg(msg, date); err != nil {
				return n, fmt.Errorf("bulletins: deliver %s to %s: %w", file, r.DropFile, err)
			} else {
				n++
			}
			state[d.Key] = num
			if err := writeState(statePath, state); err != nil {
				return n, fmt.Errorf("bulletins: %w", err)
			}
		}
	}
	return n, nil
}

// entry is one bulletin file of a directory.
type entry struct {
	num  int
	name string
}

// list returns the bulletins in dir, by number; exists is false when dir
// does not exist. Two names of one number (7.txt and 007.txt): the first
// in name order is used, the other ignored.
func list(dir string) (files []entry, exists bool, err error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	seen := map[int]bool{}
	for _, e := range entries {
		num, ok := parseName(e.Name())
		if !ok || seen[num] || e.IsDir() {
			continue
		}
		seen[num] = true
		files = append(files, entry{num, e.Name()})
	}
	slices.SortFunc(files, func(a, b entry) int { return a.num - b.num })
	return files, true, nil
}

func parseName(name string) (int, bool) {
	digits, ok := strings.CutSuffix(name, ".txt")
	if !ok || len(digits) == 0 || len(digits) > 9 || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil && n > 0
}

// readState reads the user's numbers; nil (no error) when the file does
// not exist yet. Lines that do not parse are ignored.
func readState(path string) (map[string]int, error) {
	state := map[string]int{}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		if n, err := strconv.Atoi(f[1]); err == nil && n >= 0 {
			state[f[0]] = n
		}
	}
	return state, nil
}

// writeState replaces the state file: written new, then renamed.
func writeState(path string, state map[string]int) error {
	keys := make([]string, 0, len(state))
	for k := range state {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d\n", k, state[k])
	}
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	_, err = f.Write(b.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// FromHeader is the From header's value for bulletin_from: used as it is
// when it holds an address ("@"), else as the display name of
// postmaster@host.
func FromHeader(from, host string) string {
	from = strings.TrimSpace(from)
	if from == "" {
		from = "Email System Administrator"
	}
	if strings.Contains(from, "@") {
		return from
	}
	return quotePhrase(from) + " <postmaster@" + host + ">"
}

func quotePhrase(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' ||
			strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0) {
			return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
		}
	}
	return s
}

// Build makes the message of bulletin num from file (see the package doc),
// with CRLF line ends, and returns it with its date.
func Build(file string, num int, key string, r Recipient) ([]byte, time.Time, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	if !fi.Mode().IsRegular() {
		return nil, time.Time{}, errors.New("not a regular file")
	}
	if fi.Size() > MaxSize {
		return nil, time.Time{}, fmt.Errorf("larger than %d bytes", MaxSize)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, time.Time{}, err
	}
	if len(b) > MaxSize {
		return nil, time.Time{}, fmt.Errorf("larger than %d bytes", MaxSize)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, time.Time{}, errors.New("empty")
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, time.Time{}, errors.New("holds a NUL byte")
	}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var header []string
	body := lines
	if end, ok := headerBlock(lines); ok {
		header = lines[:end]
		body = nil
		if end < len(lines) {
			body = lines[end+1:]
		}
	}
	date := fi.ModTime()
	has := func(name string) bool {
		for _, h := range header {
			if n, _, ok := strings.Cut(h, ":"); ok && strings.EqualFold(strings.TrimSpace(n), name) {
				return true
			}
		}
		return false
	}
	var out bytes.Buffer
	add := func(name, value string) {
		if !has(name) {
			out.WriteString(name + ": " + value + "\r\n")
		}
	}
	add("From", FromHeader(r.From, r.Host))
	add("To", strings.Map(func(c rune) rune {
		if c < ' ' || c == 0x7f {
			return -1 // no header injection through a strange login name
		}
		return c
	}, r.To))
	add("Subject", "Bulletin "+strconv.Itoa(num))
	add("Date", date.Format(time.RFC1123Z))
	idKey := key
	if idKey == "*" {
		idKey = "all"
	}
	add("Message-ID", fmt.Sprintf("<bulletin.%d.%s.%d@%s>", num, idKey, date.Unix(), r.Host))
	bodyText := strings.Join(body, "\n")
	if !has("Content-Type") && !isASCII(bodyText) && utf8.ValidString(bodyText) {
		add("MIME-Version", "1.0")
		out.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
		add("Content-Transfer-Encoding", "8bit")
	}
	for _, h := range header {
		out.WriteString(h + "\r\n")
	}
	out.WriteString("\r\n")
	for _, l := range body {
		out.WriteString(l + "\r\n")
	}
	return out.Bytes(), date, nil
}

// headerBlock reports whether lines begin with a header block: header
// fields (and their continuation lines) up to the first empty line, which
// must be there. end is the empty line's index. A text whose first line
// only looks like a field ("Note: ...") is a body.
func headerBlock(lines []string) (end int, ok bool) {
	if !isField(lines[0]) {
		return 0, false
	}
	for i, l := range lines {
		if l == "" {
			return i, true
		}
		if !isField(l) && l[0] != ' ' && l[0] != '\t' {
			return 0, false
		}
	}
	return 0, false
}

// isField reports whether line starts a header field: a name of printable
// characters other than ':' and space, then ':'.
func isField(line string) bool {
	name, _, ok := strings.Cut(line, ":")
	if !ok || name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
