package folders

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/emersion/go-imap/v2"

	"imapd/platform"
)

// Kind is what a mailbox name refers to.
type Kind int

const (
	// NotFound: nothing by that name.
	NotFound Kind = iota
	// MessageFolder: a regular file holding messages (selectable, no children).
	MessageFolder
	// FolderOfFolders: a directory holding folders (\Noselect).
	FolderOfFolders
)

func (k Kind) String() string {
	switch k {
	case NotFound:
		return "not found"
	case MessageFolder:
		return "message folder"
	case FolderOfFolders:
		return "folder of folders"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Tree is the mailbox namespace of one user. It holds no open files, no
// cache and no mutable state: every call looks at the disk afresh (other
// sessions and the user's shell may change the tree in between), and it may
// be used from several goroutines.
type Tree struct {
	root    string // folder root directory, cleaned
	inbox   string // drop file (maildir: the INBOX maildir, which is also the root)
	subFile string // subscription file name, in root
	maildir bool   // message folders are maildirs (directories with cur/), see NewMaildir
}

// DefaultSubscriptionFile is used when New gets "" (UW on unix; Windows
// installs pass "MAILBOX.LST").
const DefaultSubscriptionFile = ".mailboxlist"

// New returns the namespace whose INBOX is the drop file inbox and whose
// other folders live under the directory root (created on the first CREATE
// or SUBSCRIBE). subscriptionFile is a plain file name in root
// (".mailboxlist" on unix, "MAILBOX.LST" on Windows; "" means
// DefaultSubscriptionFile).
func New(root, inbox, subscriptionFile string) *Tree {
	sub := filepath.Base(subscriptionFile)
	if subscriptionFile == "" || sub == "." || sub == ".." || sub == string(filepath.Separator) {
		sub = DefaultSubscriptionFile
	}
	if root != "" {
		root = filepath.Clean(root)
	}
	return &Tree{root: root, inbox: inbox, subFile: sub}
}

// NewMaildir returns the namespace of a user whose mail is in maildirs: the
// INBOX maildir inbox is also the folder root, and every other message
// folder is a maildir below it, named by its levels ("a/b" is inbox/a/b/,
// with its own cur/, new/, tmp/), as Dovecot's LAYOUT=fs and mbsync's
// "SubFolders Verbatim" lay them out. A directory without cur/ is a folder
// of folders, so the dual-use rule is the same as with drop files. In the
// root, cur, new, tmp and imapd-* belong to the INBOX maildir and are not
// folder names.
func NewMaildir(inbox, subscriptionFile string) *Tree {
	t := New(inbox, inbox, subscriptionFile)
	t.maildir = true
	return t
}

// Maildir reports whether message folders are maildirs.
func (t *Tree) Maildir() bool { return t.maildir }

// isMaildir reports whether directory rel below r is a maildir.
func (t *Tree) isMaildir(r *os.Root, rel string) bool {
	fi, err := r.Lstat(filepath.FromSlash(path.Join(rel, "cur")))
	return err == nil && fi.IsDir()
}

// Root returns the folder root directory.
func (t *Tree) Root() string { return t.root }

// place is where a parsed name sits on disk.
type place struct {
	rel     string // on-disk path below the root, "/"-separated; missing levels encoded
	kind    Kind   // of the whole name
	missing int    // index of the first level that does not exist; len(comps) if all exist
	blocked int    // index of a level that is a message folder but has levels below it; -1 if none
}

// lookup walks the levels of n below the root with Lstat, one at a time.
// It refuses (with an *Error) symbolic links and anything that is neither a
// regular file nor a directory, anywhere on the way; it never follows them.
// r may be nil when the root does not exist.
func (t *Tree) lookup(r *os.Root, n name) (place, error) {
	p := place{missing: len(n.comps), blocked: -1}
	rel := ""
	for i, c := range n.comps {
		if r == nil {
			p.missing = i
			break
		}
		disk, fi, err := t.lstatLevel(r, rel, c, i)
		if errors.Is(err, fs.ErrNotExist) {
			p.missing = i
			break
		}
		if err != nil {
			return place{}, sysError("Can't access "+n.full, err)
		}
		rel = path.Join(rel, disk)
		shown := strings.Join(n.comps[:i+1], string(Delim))
		if why := refusedType(fi); why != "" {
			return place{}, newError(imap.ResponseCodeNoPerm, nil,
				"Can't access %s: %s %s (refused)", n.full, shown, why)
		}
		if t.maildir && fi.Mode().IsRegular() {
			return place{}, newError(imap.ResponseCodeNoPerm, nil,
				"Can't access %s: %s is a file, not a folder (refused)", n.full, shown)
		}
		if fi.Mode().IsRegular() || t.maildir && t.isMaildir(r, rel) {
			if i == len(n.comps)-1 {
				p.rel, p.kind = rel, MessageFolder
				return p, nil
			}
			p.blocked = i
			p.missing = i + 1
			break
		}
		if i == len(n.comps)-1 {
			p.rel, p.kind = rel, FolderOfFolders
			return p, nil
		}
	}
	for _, c := range n.comps[p.missing:] {
		rel = path.Join(rel, encodeMUTF7(c))
	}
	p.rel, p.kind = rel, NotFound
	return p, nil
}

// lstatLevel finds level c (UTF-8) in directory rel: by its modified UTF-7
// name, or else, for printable ASCII that is not valid modified UTF-7, by
// its raw bytes (see rawCandidate). It returns the on-disk name.
func (t *Tree) lstatLevel(r *os.Root, rel, c string, depth int) (string, fs.FileInfo, error) {
	enc := encodeMUTF7(c)
	fi, err := r.Lstat(filepath.FromSlash(path.Join(rel, enc)))
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !t.rawCandidate(c, depth) {
		return enc, fi, err
	}
	fi2, err2 := r.Lstat(filepath.FromSlash(path.Join(rel, c)))
	if err2 != nil {
		return enc, nil, err
	}
	return c, fi2, nil
}

// refusedType says why a file system entry must not be used as a folder,
// or "" for regular files and directories.
func refusedType(fi fs.FileInfo) string {
	m := fi.Mode()
	switch {
	case m&fs.ModeSymlink != 0:
		return "is a symbolic link"
	case m.IsRegular() || m.IsDir():
		return ""
	}
	return "is not a regular file or directory"
}

// openRoot opens the folder root for traversal-safe access. It returns nil,
// nil when the root does not exist, and refuses a root that is a symbolic
// link or not a directory.
func (t *Tree) openRoot() (*os.Root, error) {
	if t.root == "" {
		return nil, newError(imap.ResponseCodeUnavailable, nil, "No folder directory is configured")
	}
	fi, err := os.Lstat(t.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, sysError("Can't access the folder directory", err)
	}
	if !fi.IsDir() {
		why := refusedType(fi)
		if why == "" {
			why = "is not a directory"
		}
		return nil, newError(imap.ResponseCodeNoPerm, nil, "The folder directory %s (refused)", why)
	}
	r, err := os.OpenRoot(t.root)
	if err != nil {
		return nil, sysError("Can't open the folder directory", err)
	}
	return r, nil
}

// makeRoot opens the folder root, creating it (mode 0700) if missing. Its
// parent must exist.
func (t *Tree) makeRoot() (*os.Root, error) {
	r, err := t.openRoot()
	if r != nil || err != nil {
		return r, err
	}
	if err := os.Mkdir(t.root, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, sysError("Can't create the folder directory", err)
	}
	r, err = t.openRoot()
	if r == nil && err == nil {
		err = newError("", nil, "Can't create the folder directory")
	}
	return r, err
}

func (t *Tree) abs(rel string) string {
	if rel == "" {
		return t.root
	}
	return filepath.Join(t.root, filepath.FromSlash(rel))
}

// Path returns the file system path of mailbox name: the drop file for
// INBOX (any case), else a path below the root. The path need not exist,
// but the existing part of it was checked: no symbolic links, nothing but
// directories and regular files. A trailing separator is ignored.
func (t *Tree) Path(name string) (string, error) {
	if isInbox(name) {
		return t.inbox, nil
	}
	p, _, err := t.find(name)
	if err != nil {
		return "", err
	}
	return t.abs(p.rel), nil
}

// Kind returns what name refers to. INBOX is a MessageFolder even before
// the drop file exists. A name below a message folder is NotFound.
func (t *Tree) Kind(name string) (Kind, error) {
	if isInbox(name) {
		return MessageFolder, nil
	}
	p, _, err := t.find(name)
	if err != nil {
		return NotFound, err
	}
	return p.kind, nil
}

// find parses and looks up a name that is not INBOX.
func (t *Tree) find(s string) (place, name, error) {
	n, perr := t.parseName(s)
	if perr != nil {
		return place{}, name{}, perr
	}
	r, err := t.openRoot()
	if err != nil {
		return place{}, n, err
	}
	if r != nil {
		defer r.Close()
	}
	p, err := t.lookup(r, n)
	return p, n, err
}

// Create makes mailbox name. "a" makes an empty message folder (file mode
// 0600, created exclusively); "a/b" also makes the directory "a" (0700) if
// needed; "a/" makes only the directory. It returns the new file's path, or
// "" when only a directory was made; writing the file's first content (UW's
// internal-data message) is the message store's job.
func (t *Tree) Create(name string) (string, error) {
	if isInbox(name) {
		return "", newError(imap.ResponseCodeAlreadyExists, nil, "Can't create INBOX: it always exists")
	}
	n, perr := t.parseName(name)
	if perr != nil {
		return "", perr
	}
	r, err := t.makeRoot()
	if err != nil {
		return "", err
	}
	defer r.Close()
	p, err := t.lookup(r, n)
	if err != nil {
		return "", err
	}
	if p.blocked >= 0 {
		return "", t.blockedError("create", n, p)
	}
	if p.kind != NotFound {
		return "", newError(imap.ResponseCodeAlreadyExists, nil, "Can't create %s: a mailbox with that name already exists", name)
	}
	levels := strings.Split(p.rel, "/")
	for i := p.missing; i < len(levels)-1; i++ {
		dir := filepath.FromSlash(strings.Join(levels[:i+1], "/"))
		if err := r.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", sysError("Can't create "+name, err)
		}
	}
	final := filepath.FromSlash(p.rel)
	if n.dirOnly {
		if err := r.Mkdir(final, 0o700); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return "", newError(imap.ResponseCodeAlreadyExists, err, "Can't create %s: a mailbox with that name already exists", name)
			}
			return "", sysError("Can't create "+name, err)
		}
		return "", nil
	}
	if t.maildir {
		// The directory with its cur/ is the message folder from the
		// start; the message store adds the rest of the maildir.
		if err := r.Mkdir(final, 0o700); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return "", newError(imap.ResponseCodeAlreadyExists, err, "Can't create %s: a mailbox with that name already exists", name)
			}
			return "", sysError("Can't create "+name, err)
		}
		if err := r.Mkdir(filepath.Join(final, "cur"), 0o700); err != nil {
			return "", sysError("Can't create "+name, err)
		}
		return t.abs(p.rel), nil
	}
	f, err := r.OpenFile(final, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", newError(imap.ResponseCodeAlreadyExists, err, "Can't create %s: a mailbox with that name already exists", name)
		}
		return "", sysError("Can't create "+name, err)
	}
	if err := f.Close(); err != nil {
		return "", sysError("Can't create "+name, err)
	}
	return t.abs(p.rel), nil
}

func (t *Tree) blockedError(verb string, n name, p place) *Error {
	parent := strings.Join(n.comps[:p.blocked+1], string(Delim))
	return newError(imap.ResponseCodeCannot, nil,
		"Can't %s %s: %s is a message folder and cannot hold folders", verb, n.full, parent)
}

// Delete removes mailbox name: a message folder's file, or a directory if it
// is empty. Nothing is deleted recursively. INBOX can't be deleted.
// Whether another session has the folder open is for the caller to check
// first.
func (t *Tree) Delete(name string) error {
	if isInbox(name) {
		return newError(imap.ResponseCodeCannot, nil, "Can't delete INBOX")
	}
	n, perr := t.parseName(name)
	if perr != nil {
		return perr
	}
	r, err := t.openRoot()
	if err != nil {
		return err
	}
	if r == nil {
		return newError(imap.ResponseCodeNonExistent, nil, "Can't delete %s: no such mailbox", n.full)
	}
	defer r.Close()
	p, err := t.lookup(r, n)
	if err != nil {
		return err
	}
	switch p.kind {
	case NotFound:
		return newError(imap.ResponseCodeNonExistent, nil, "Can't delete %s: no such mailbox", n.full)
	case FolderOfFolders:
		entries, err := readDir(r, p.rel)
		if err != nil {
			return sysError("Can't delete "+n.full, err)
		}
		if len(entries) > 0 {
			for _, e := range entries {
				if !t.hidden(e.Name(), len(n.comps)) {
					return newError(imap.ResponseCodeHasChildren, nil,
						"Can't delete %s: it has folders inside it; delete those first", n.full)
				}
			}
			return newError(imap.ResponseCodeInUse, nil,
				"Can't delete %s: its directory holds lock files (is a folder in it in use?)", n.full)
		}
	}
	if t.maildir && p.kind == MessageFolder {
		// A maildir's messages are files in it: deleting the folder
		// deletes them, as deleting a folder file does. A maildir made by
		// another tool may hold child maildirs (Dovecot LAYOUT=fs, mbsync
		// Verbatim), which are not listed here: never remove those.
		entries, err := readDir(r, p.rel)
		if err != nil {
			return sysError("Can't delete "+n.full, err)
		}
		for _, e := range entries {
			if e.IsDir() && !maildirOwn(e.Name()) {
				return newError(imap.ResponseCodeHasChildren, nil,
					"Can't delete %s: its directory holds another folder (%s)", n.full, e.Name())
			}
		}
		if err := r.RemoveAll(filepath.FromSlash(p.rel)); err != nil {
			return sysError("Can't delete "+n.full, err)
		}
		return nil
	}
	if err := removeAt(r, filepath.FromSlash(p.rel), t.abs(p.rel)); err != nil {
		return sysError("Can't delete "+n.full, err)
	}
	return nil
}

// readDir lists directory rel below r, sorted by name.
func readDir(r *os.Root, rel string) ([]fs.DirEntry, error) {
	dir := rel
	if dir == "" {
		dir = "."
	}
	f, err := r.Open(filepath.FromSlash(dir))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	sortEntries(entries)
	return entries, nil
}

// Rename moves mailbox from (a message folder or a folder of folders, with
// everything in it) to the new name to, making missing directories above
// it. It refuses when to exists, when to is inside from, and when from is
// INBOX: then it returns ErrInboxRename and the session moves the messages.
func (t *Tree) Rename(from, to string) error {
	if isInbox(from) {
		return ErrInboxRename
	}
	if isInbox(to) {
		return newError(imap.ResponseCodeAlreadyExists, nil, "Can't rename %s to INBOX: INBOX always exists", from)
	}
	nf, perr := t.parseName(from)
	if perr != nil {
		return perr
	}
	nt, perr := t.parseName(to)
	if perr != nil {
		return perr
	}
	if isInbox(nt.full) {
		return newError(imap.ResponseCodeAlreadyExists, nil, "Can't rename %s to INBOX: INBOX always exists", from)
	}
	what := "Can't rename " + nf.full + " to " + nt.full
	r, err := t.openRoot()
	if err != nil {
		return err
	}
	if r == nil {
		return newError(imap.ResponseCodeNonExistent, nil, "%s: no such mailbox %s", what, nf.full)
	}
	defer r.Close()
	pf, err := t.lookup(r, nf)
	if err != nil {
		return err
	}
	if pf.kind == NotFound {
		return newError(imap.ResponseCodeNonExistent, nil, "%s: no such mailbox %s", what, nf.full)
	}
	if nt.full == nf.full {
		return newError(imap.ResponseCodeAlreadyExists, nil, "%s: mailbox %s already exists", what, nt.full)
	}
	if strings.HasPrefix(nt.full, nf.full+string(Delim)) {
		return newError(imap.ResponseCodeCannot, nil, "%s: a mailbox can't be moved inside itself", what)
	}
	pt, err := t.lookup(r, nt)
	if err != nil {
		return err
	}
	if pt.blocked >= 0 {
		return t.blockedError("rename "+nf.full+" to", nt, pt)
	}
	if pt.kind != NotFound {
		return newError(imap.ResponseCodeAlreadyExists, nil, "%s: mailbox %s already exists", what, nt.full)
	}
	if pt.rel == pf.rel || strings.HasPrefix(pt.rel, pf.rel+"/") {
		return newError(imap.ResponseCodeCannot, nil, "%s: a mailbox can't be moved inside itself", what)
	}
	levels := strings.Split(pt.rel, "/")
	for i := pt.missing; i < len(levels)-1; i++ {
		dir := filepath.FromSlash(strings.Join(levels[:i+1], "/"))
		if err := r.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return sysError(what, err)
		}
	}
	if err := r.Rename(filepath.FromSlash(pf.rel), filepath.FromSlash(pt.rel)); err != nil {
		return sysError(what, err)
	}
	return nil
}

// CheckMailbox vets a message folder before the session opens it: a folder
// file as CheckFile says, or (maildir) a real directory with cur/, not a
// symbolic link.
func (t *Tree) CheckMailbox(path string) error {
	if !t.maildir {
		return CheckFile(path)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return sysError("Can't open mailbox "+path, err)
	}
	if why := refusedType(fi); why != "" {
		return newError(imap.ResponseCodeNoPerm, nil, "Mailbox %s %s (refused)", path, why)
	}
	cur, err := os.Lstat(filepath.Join(path, "cur"))
	if !fi.IsDir() || err != nil || !cur.IsDir() {
		return newError(imap.ResponseCodeCannot, nil, "Mailbox %s holds folders, not messages", path)
	}
	return nil
}

// CheckFile vets a folder file (or the drop file) before the session opens
// it: it must be a regular file, not a symbolic link, and (except on
// Windows, where the count is not available) have exactly one hard link, so
// a user with shell access can't point a folder at someone else's file. A
// missing file gives an *Error wrapping fs.ErrNotExist.
func CheckFile(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return sysError("Can't open mailbox "+path, err)
	}
	if why := refusedType(fi); why != "" {
		return newError(imap.ResponseCodeNoPerm, nil, "Mailbox %s %s (refused)", path, why)
	}
	if fi.IsDir() {
		return newError(imap.ResponseCodeCannot, nil, "Mailbox %s holds folders, not messages", path)
	}
	if n, ok := platform.Links(fi); ok && n > 1 {
		return newError(imap.ResponseCodeNoPerm, nil, "Mailbox %s has %d hard links (refused)", path, n)
	}
	return nil
}
