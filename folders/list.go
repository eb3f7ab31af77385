package folders

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"

	"imapd/platform"
)

// Entry is one LIST or LSUB reply line.
type Entry struct {
	Name  string // UTF-8, levels separated by "/"
	Delim rune   // '/'; 0 (NIL) for INBOX when it has no children, as UW sends it
	Attrs []imap.MailboxAttr
}

func sortEntries(entries []fs.DirEntry) {
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
}

// List answers LIST ref patterns. Order: the tree depth first, entries of a
// directory sorted by their on-disk names, each directory right before its
// contents; INBOX last (UW's order). No patterns (the client sent "") gives
// the root: `(\Noselect) "/" ""`.
func (t *Tree) List(ref string, patterns []string) ([]Entry, error) {
	var ps patternSet
	root := false
	for _, p := range patterns {
		if p == "" {
			root = true
			continue
		}
		ps = append(ps, canonical(ref, p))
	}
	var out []Entry
	if root || len(patterns) == 0 {
		out = append(out, Entry{Name: "", Delim: Delim, Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}})
	}
	if len(ps) == 0 {
		return out, nil
	}
	r, err := t.openRoot()
	if err != nil {
		return nil, err
	}
	var rootEntries []fs.DirEntry
	if r != nil {
		defer r.Close()
		rootEntries, err = readDir(r, "")
		if err != nil {
			return nil, sysError("Can't list the folder directory", err)
		}
		w := lister{t: t, r: r, ps: ps}
		if inboxFi, err := os.Stat(t.inbox); err == nil {
			w.inbox = inboxFi
		}
		if rel, err := filepath.Rel(t.root, filepath.Clean(t.inbox)); err == nil && filepath.IsLocal(rel) {
			w.inboxRel = filepath.ToSlash(rel)
		}
		if err := w.walk("", "", 0, rootEntries); err != nil {
			return nil, err
		}
		out = append(out, w.out...)
	}
	if ps.matchInbox() {
		out = append(out, t.inboxEntry(r, rootEntries))
	}
	return out, nil
}

// inboxEntry is INBOX's LIST line: \Noinferiors with a NIL delimiter, as UW
// sends it, unless a directory named "INBOX" in the root holds folders
// ("INBOX/x" names, which UW allowed): then \HasChildren or \HasNoChildren.
func (t *Tree) inboxEntry(r *os.Root, rootEntries []fs.DirEntry) Entry {
	for _, e := range rootEntries {
		if e.Name() == inboxName && e.IsDir() {
			attr := imap.MailboxAttrHasNoChildren
			if kids, err := readDir(r, inboxName); err == nil && t.anyVisible(kids, 1) {
				attr = imap.MailboxAttrHasChildren
			}
			return Entry{Name: inboxName, Delim: Delim, Attrs: []imap.MailboxAttr{attr}}
		}
	}
	return Entry{Name: inboxName, Attrs: []imap.MailboxAttr{imap.MailboxAttrNoInferiors}}
}

// lister is one LIST walk.
type lister struct {
	t        *Tree
	r        *os.Root
	ps       patternSet
	inbox    fs.FileInfo // the drop file, if it exists: never listed under another name
	inboxRel string      // the drop file's path below the root, if it is there
	out      []Entry
}

// visible is one directory entry a client may see, with its shown name.
type visible struct {
	e     fs.DirEntry
	shown string
}

// visibleEntries filters a directory's entries down to what LIST shows:
// not our internal files, only regular files and directories (symbolic
// links and special files are never followed or shown), names a client can
// use (see Tree.display); a raw-named entry whose modified UTF-7 twin also
// exists is shadowed by it.
func (t *Tree) visibleEntries(entries []fs.DirEntry, depth int) []visible {
	var out []visible
	var names map[string]bool
	for _, e := range entries {
		if t.hidden(e.Name(), depth) {
			continue
		}
		if typ := e.Type(); typ&fs.ModeType != 0 && !typ.IsDir() {
			continue
		}
		shown, raw, ok := t.display(e.Name(), depth)
		if !ok {
			continue
		}
		if raw {
			if names == nil {
				names = make(map[string]bool, len(entries))
				for _, e2 := range entries {
					names[e2.Name()] = true
				}
			}
			if names[encodeMUTF7(shown)] {
				continue
			}
		}
		out = append(out, visible{e: e, shown: shown})
	}
	return out
}

func (t *Tree) anyVisible(entries []fs.DirEntry, depth int) bool {
	return len(t.visibleEntries(entries, depth)) > 0
}

// walk lists directory rel (on disk) whose shown name is prefix (with a
// trailing "/" unless it is the root), at depth levels below the root.
func (w *lister) walk(rel, prefix string, depth int, entries []fs.DirEntry) error {
	for _, v := range w.t.visibleEntries(entries, depth) {
		full := prefix + v.shown
		diskRel := path.Join(rel, v.e.Name())
		topInbox := depth == 0 && isInbox(v.shown) // the name INBOX means the drop file
		if v.e.IsDir() && w.t.maildir && w.t.isMaildir(w.r, diskRel) {
			if !topInbox && w.ps.match(full) {
				mark := imap.MailboxAttrUnmarked
				if news, err := readDir(w.r, path.Join(diskRel, "new")); err == nil && len(news) > 0 {
					mark = imap.MailboxAttrMarked
				}
				w.out = append(w.out, Entry{Name: full, Delim: Delim,
					Attrs: []imap.MailboxAttr{imap.MailboxAttrNoInferiors, mark}})
			}
			continue
		}
		if v.e.IsDir() {
			listIt, slashForm := false, false
			if !topInbox {
				listIt = w.ps.match(full)
				slashForm = !listIt && w.ps.matchSlash(full)
			}
			descend := depth+1 < MaxDepth && w.ps.below(full+string(Delim))
			if !listIt && !slashForm && !descend {
				continue
			}
			kids, err := readDir(w.r, diskRel)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) { // removed meanwhile
					continue
				}
				return sysError("Can't list "+full, err)
			}
			if listIt || slashForm {
				name := full
				if slashForm {
					name += string(Delim)
				}
				attr := imap.MailboxAttrHasNoChildren
				if w.t.anyVisible(kids, depth+1) {
					attr = imap.MailboxAttrHasChildren
				}
				w.out = append(w.out, Entry{Name: name, Delim: Delim,
					Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect, attr}})
			}
			if descend {
				if err := w.walk(diskRel, full+string(Delim), depth+1, kids); err != nil {
					return err
				}
			}
			continue
		}
		if topInbox || w.t.maildir || !w.ps.match(full) {
			continue // (a file in a maildir tree is not a folder)
		}
		fi, err := v.e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if !fi.Mode().IsRegular() || sameDiskName(diskRel, w.inboxRel) || (w.inbox != nil && os.SameFile(fi, w.inbox)) {
			continue
		}
		mark := imap.MailboxAttrUnmarked
		if marked(fi) {
			mark = imap.MailboxAttrMarked
		}
		w.out = append(w.out, Entry{Name: full, Delim: Delim,
			Attrs: []imap.MailboxAttr{imap.MailboxAttrNoInferiors, mark}})
	}
	return nil
}

// marked is the \Marked rule: the file is not empty and was modified after
// it was last read (atime < mtime), i.e. new mail since the last read. UW
// compares atime with ctime, which only works with whole-second times; with
// the sub-second times Go sees, mtime is the reliable witness: a reader
// leaves atime >= mtime, a delivery sets mtime > atime.
func marked(fi fs.FileInfo) bool {
	if fi.Size() == 0 {
		return false
	}
	at, ok := platform.Atime(fi)
	return ok && at.Before(fi.ModTime())
}
