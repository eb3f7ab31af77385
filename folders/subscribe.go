package folders

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// The subscription file (UW's ~/.mailboxlist, DMail's .mailboxlist or
// MAILBOX.LST in the folder root): one on-disk (modified UTF-7) name per
// line, LF-terminated, in subscription order; INBOX is stored as "INBOX".
// Lines starting with "{" (remote mailboxes) and empty lines are ignored; a
// CR before the LF is tolerated.

// subTemp is the temporary file Unsubscribe writes, hidden by the ".imapd"
// rule.
const subTemp = ".imapd-subscriptions.tmp"

// readSubscriptions returns the lines of the subscription file without
// their line ends (nil if it does not exist). Empty lines are dropped;
// remote ("{") lines are kept, for Unsubscribe to preserve.
func (t *Tree) readSubscriptions(r *os.Root) ([]string, error) {
	if r == nil {
		return nil, nil
	}
	fi, err := r.Lstat(t.subFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, sysError("Can't read the subscription list", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, newError(imap.ResponseCodeNoPerm, nil, "The subscription list %s (refused)", refusedTypeOrDir(fi))
	}
	data, err := r.ReadFile(t.subFile)
	if err != nil {
		return nil, sysError("Can't read the subscription list", err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			continue
		}
		lines = append(lines, l)
	}
	return lines, nil
}

func refusedTypeOrDir(fi fs.FileInfo) string {
	if why := refusedType(fi); why != "" {
		return why
	}
	return "is a directory"
}

// shownSubscription turns a line of the subscription file into the name
// shown to clients, level by level as LIST does (Tree.display); ok is false
// for lines no client could name.
func (t *Tree) shownSubscription(line string) (string, bool) {
	if strings.HasPrefix(line, "{") { // remote
		return "", false
	}
	if isInbox(line) {
		return inboxName, true
	}
	levels := strings.Split(line, string(Delim))
	for i, l := range levels {
		if l == "" {
			return "", false
		}
		shown, _, ok := t.display(l, i)
		if !ok {
			return "", false
		}
		levels[i] = shown
	}
	return strings.Join(levels, string(Delim)), true
}

// ListSubscribed answers LSUB ref patterns from the subscription file, in
// its order: INBOX with \Noinferiors and a NIL delimiter, other subscribed
// names with no attributes (whether they still exist is not checked, as in
// UW), and, for a pattern ending in "%", the superior levels of subscribed
// names that match the pattern while the names themselves don't, as
// \Noselect.
func (t *Tree) ListSubscribed(ref string, patterns []string) ([]Entry, error) {
	var ps patternSet
	var uppers patternSet // patterns ending in "%"
	for _, p := range patterns {
		if p == "" {
			continue
		}
		c := canonical(ref, p)
		ps = append(ps, c)
		if endsInPercent(c) {
			uppers = append(uppers, c)
		}
	}
	if len(ps) == 0 {
		return nil, nil
	}
	r, err := t.openRoot()
	if err != nil {
		return nil, err
	}
	if r != nil {
		defer r.Close()
	}
	lines, err := t.readSubscriptions(r)
	if err != nil {
		return nil, err
	}
	var out []Entry
	seen := make(map[string]int) // name -> index in out
	add := func(e Entry) {
		if i, ok := seen[e.Name]; ok {
			if len(e.Attrs) == 0 { // subscribed beats an implied superior level
				out[i].Attrs = nil
			}
			return
		}
		seen[e.Name] = len(out)
		out = append(out, e)
	}
	for _, line := range lines {
		shown, ok := t.shownSubscription(line)
		if !ok {
			continue
		}
		if shown == inboxName {
			if ps.matchInbox() {
				add(Entry{Name: inboxName, Attrs: []imap.MailboxAttr{imap.MailboxAttrNoInferiors}})
			}
			continue
		}
		if ps.match(shown) {
			add(Entry{Name: shown, Delim: Delim})
			continue
		}
		for up := shown; len(uppers) > 0; {
			i := strings.LastIndexByte(up, Delim)
			if i < 0 {
				break
			}
			up = up[:i]
			if uppers.match(up) {
				add(Entry{Name: up, Delim: Delim, Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}})
			}
		}
	}
	return out, nil
}

// Subscribe adds name to the subscription list. The mailbox must exist
// (else NO [NONEXISTENT] "not a mailbox"); a folder of folders is accepted,
// as UW does. Subscribing twice is not an error and adds no second line.
func (t *Tree) Subscribe(name string) error {
	line := inboxName
	if !isInbox(name) {
		p, n, err := t.find(name)
		if err != nil {
			return err
		}
		if p.kind == NotFound {
			return newError(imap.ResponseCodeNonExistent, nil, "Can't subscribe %s: not a mailbox", n.full)
		}
		line = p.rel
	}
	r, err := t.makeRoot()
	if err != nil {
		return err
	}
	defer r.Close()
	lines, err := t.readSubscriptions(r)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if l == line || (line == inboxName && isInbox(l)) {
			return nil
		}
	}
	f, err := r.OpenFile(t.subFile, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return sysError("Can't subscribe "+name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return sysError("Can't subscribe "+name, err)
	}
	if !fi.Mode().IsRegular() {
		return newError(imap.ResponseCodeNoPerm, nil, "Can't subscribe %s: the subscription list %s (refused)", name, refusedTypeOrDir(fi))
	}
	buf := line + "\n"
	if size := fi.Size(); size > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, size-1); err == nil && last[0] != '\n' {
			buf = "\n" + buf // repair a missing final newline
		}
	}
	if _, err := f.WriteString(buf); err != nil {
		return sysError("Can't subscribe "+name, err)
	}
	if err := f.Close(); err != nil {
		return sysError("Can't subscribe "+name, err)
	}
	return nil
}

// Unsubscribe removes name from the subscription list: every line naming
// it, whether or not the mailbox still exists. The file is rewritten
// through a temporary file and a rename. Unsubscribing a name that is not
// subscribed is not an error.
func (t *Tree) Unsubscribe(name string) error {
	name = strings.TrimSuffix(name, string(Delim))
	r, err := t.openRoot()
	if err != nil || r == nil {
		return err
	}
	defer r.Close()
	lines, err := t.readSubscriptions(r)
	if err != nil {
		return err
	}
	var keep []string
	removed := false
	for _, l := range lines {
		shown, ok := t.shownSubscription(l)
		if (ok && (shown == name || (shown == inboxName && isInbox(name)))) || l == encodeMUTF7(name) {
			removed = true
			continue
		}
		keep = append(keep, l)
	}
	if !removed {
		return nil
	}
	what := "Can't unsubscribe " + name
	perm := fs.FileMode(0o644)
	if fi, err := r.Lstat(t.subFile); err == nil {
		perm = fi.Mode().Perm()
	}
	var b strings.Builder
	for _, l := range keep {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	_ = removeAt(r, subTemp, t.abs(subTemp))
	f, err := r.OpenFile(subTemp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return sysError(what, err)
	}
	_, err = f.WriteString(b.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.Rename(subTemp, t.subFile)
	}
	if err != nil {
		_ = removeAt(r, subTemp, t.abs(subTemp))
		return sysError(what, err)
	}
	return nil
}
