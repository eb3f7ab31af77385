package folders

import (
	"errors"
	"fmt"
	"imapd/internal/testdir"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// newTree returns a Tree for user bob: drop file <tmp>/spool/bob (created,
// with one message), folder root <tmp>/spool/bob.mbx (not created).
func newTree(t *testing.T) *Tree {
	t.Helper()
	spool := filepath.Join(tempDir(t), "spool")
	if err := os.Mkdir(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	inbox := filepath.Join(spool, "bob")
	if err := os.WriteFile(inbox, []byte("From a@b Mon Nov 23 10:00:00 2026\n\nhi\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return New(inbox+".mbx", inbox, ".mailboxlist")
}

func wantErr(t *testing.T, err error, code imap.ResponseCode, text string) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("got error %v (%T), want *Error [%s] %q", err, err, code, text)
	}
	if fe.Code != code || !strings.Contains(fe.Text, text) {
		t.Fatalf("got [%s] %q, want [%s] containing %q", fe.Code, fe.Text, code, text)
	}
	if fe.Error() != fe.Text {
		t.Fatalf("Error() = %q, want Text", fe.Error())
	}
}

func mustCreate(t *testing.T, tr *Tree, name string) string {
	t.Helper()
	p, err := tr.Create(name)
	if err != nil {
		t.Fatalf("Create(%q): %v", name, err)
	}
	return p
}

func wantKind(t *testing.T, tr *Tree, name string, want Kind) {
	t.Helper()
	k, err := tr.Kind(name)
	if err != nil || k != want {
		t.Fatalf("Kind(%q) = %v, %v; want %v", name, k, err, want)
	}
}

func wantMode(t *testing.T, path string, dir bool, perm fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.IsDir() != dir {
		t.Fatalf("%s: dir=%v, want %v", path, fi.IsDir(), dir)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != perm {
		t.Fatalf("%s: mode %v, want %v", path, fi.Mode().Perm(), perm)
	}
}

func TestCreateMessageFolder(t *testing.T) {
	tr := newTree(t)
	p := mustCreate(t, tr, "Drafts")
	if want := filepath.Join(tr.Root(), "Drafts"); p != want {
		t.Fatalf("Create returned %q, want %q", p, want)
	}
	wantMode(t, tr.Root(), true, 0o700) // the root, made on demand
	wantMode(t, p, false, 0o600)
	if fi, _ := os.Stat(p); fi.Size() != 0 {
		t.Fatal("new folder file is not empty")
	}
	wantKind(t, tr, "Drafts", MessageFolder)
	if err := CheckFile(p); err != nil {
		t.Fatalf("CheckFile: %v", err)
	}
	_, err := tr.Create("Drafts")
	wantErr(t, err, imap.ResponseCodeAlreadyExists, "Can't create Drafts: a mailbox with that name already exists")
	_, err = tr.Create("Drafts/")
	wantErr(t, err, imap.ResponseCodeAlreadyExists, "already exists")
}

func TestCreateNested(t *testing.T) {
	tr := newTree(t)
	p := mustCreate(t, tr, "a/b")
	wantMode(t, filepath.Join(tr.Root(), "a"), true, 0o700)
	wantMode(t, p, false, 0o600)
	if p != filepath.Join(tr.Root(), "a", "b") {
		t.Fatalf("path %q", p)
	}
	wantKind(t, tr, "a", FolderOfFolders)
	wantKind(t, tr, "a/b", MessageFolder)
	wantKind(t, tr, "a/", FolderOfFolders)
	mustCreate(t, tr, "a/c/d/e")
	wantKind(t, tr, "a/c/d", FolderOfFolders)
	wantKind(t, tr, "a/c/d/e", MessageFolder)
	_, err := tr.Create("a")
	wantErr(t, err, imap.ResponseCodeAlreadyExists, "Can't create a: a mailbox with that name already exists")
}

func TestCreateDirectoryOnly(t *testing.T) {
	tr := newTree(t)
	p, err := tr.Create("Projects/")
	if err != nil || p != "" {
		t.Fatalf("Create(Projects/) = %q, %v", p, err)
	}
	wantMode(t, filepath.Join(tr.Root(), "Projects"), true, 0o700)
	wantKind(t, tr, "Projects", FolderOfFolders)
	_, err = tr.Create("Projects/")
	wantErr(t, err, imap.ResponseCodeAlreadyExists, "already exists")
	if _, err := tr.Create("x/y/"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, tr, "x/y", FolderOfFolders)
}

func TestCreateUnderMessageFolder(t *testing.T) {
	tr := newTree(t)
	mustCreate(t, tr, "a")
	_, err := tr.Create("a/b")
	wantErr(t, err, imap.ResponseCodeCannot, "Can't create a/b: a is a message folder and cannot hold folders")
	_, err = tr.Create("a/b/c/")
	wantErr(t, err, imap.ResponseCodeCannot, "Can't create a/b/c: a is a message folder and cannot hold folders")
	wantKind(t, tr, "a/b", NotFound)
	wantKind(t, tr, "a", MessageFolder)
}

func TestInbox(t *testing.T) {
	tr := newTree(t)
	for i, n := range []string{"INBOX", "inbox", "InBox"} {
		p, err := tr.Path(n)
		if err != nil || p != filepath.Join(filepath.Dir(tr.Root()), "bob") {
			t.Fatalf("Path(%q) = %q, %v", n, p, err)
		}
		wantKind(t, tr, n, MessageFolder)
		_, err = tr.Create(n)
		wantErr(t, err, imap.ResponseCodeAlreadyExists, "Can't create INBOX")
		wantErr(t, tr.Delete(n), imap.ResponseCodeCannot, "Can't delete INBOX")
		if err := tr.Rename(n, "Old"); !errors.Is(err, ErrInboxRename) {
			t.Fatalf("Rename(%q) = %v, want ErrInboxRename", n, err)
		}
		other := fmt.Sprintf("x%d", i)
		mustCreate(t, tr, other)
		wantErr(t, tr.Rename(other, n), imap.ResponseCodeAlreadyExists, "INBOX always exists")
	}
	// "INBOX/x" is an ordinary path below the root (UW): "INBOX/" makes
	// the directory root/INBOX, INBOX itself stays the drop file.
	if p, err := tr.Create("INBOX/"); err != nil || p != "" {
		t.Fatalf("Create(INBOX/) = %q, %v", p, err)
	}
	wantKind(t, tr, "INBOX", MessageFolder)
	// The drop file need not exist yet.
	os.Remove(filepath.Join(filepath.Dir(tr.Root()), "bob"))
	wantKind(t, tr, "INBOX", MessageFolder)
	p := mustCreate(t, tr, "INBOX/Sub")
	if p != filepath.Join(tr.Root(), "INBOX", "Sub") {
		t.Fatalf("path %q", p)
	}
}

func TestDelete(t *testing.T) {
	tr := newTree(t)
	wantErr(t, tr.Delete("nope"), imap.ResponseCodeNonExistent, "Can't delete nope: no such mailbox")
	mustCreate(t, tr, "a/b")
	mustCreate(t, tr, "c")
	wantErr(t, tr.Delete("a"), imap.ResponseCodeHasChildren, "Can't delete a: it has folders inside it")
	wantErr(t, tr.Delete("c/x"), imap.ResponseCodeNonExistent, "no such mailbox")
	if err := tr.Delete("a/b"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, tr, "a/b", NotFound)
	wantKind(t, tr, "a", FolderOfFolders)
	if err := tr.Delete("a"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, tr, "a", NotFound)
	if err := tr.Delete("c"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, tr, "c", NotFound)
	wantErr(t, tr.Delete("c"), imap.ResponseCodeNonExistent, "no such mailbox")

	// A directory holding only a lock file is not deleted either.
	mustCreate(t, tr, "d/")
	if err := os.WriteFile(filepath.Join(tr.Root(), "d", "x.lock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wantErr(t, tr.Delete("d"), imap.ResponseCodeInUse, "holds lock files")
	mustCreate(t, tr, "e/")
	if err := tr.Delete("e/"); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteWithoutRoot(t *testing.T) {
	tr := newTree(t)
	wantErr(t, tr.Delete("x"), imap.ResponseCodeNonExistent, "no such mailbox")
	wantKind(t, tr, "x", NotFound)
	if _, err := os.Stat(tr.Root()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("Delete/Kind created the root")
	}
}

func TestRename(t *testing.T) {
	tr := newTree(t)
	mustCreate(t, tr, "a")
	if err := os.WriteFile(filepath.Join(tr.Root(), "a"), []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := tr.Rename("a", "x/y/z"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, tr, "a", NotFound)
	wantKind(t, tr, "x/y", FolderOfFolders)
	wantMode(t, filepath.Join(tr.Root(), "x", "y"), true, 0o700)
	if b, _ := os.ReadFile(filepath.Join(tr.Root(), "x", "y", "z")); string(b) != "content" {
		t.Fatalf("renamed content %q", b)
	}
	wantErr(t, tr.Rename("nope", "b"), imap.ResponseCodeNonExistent, "Can't rename nope to b: no such mailbox nope")
	mustCreate(t, tr, "b")
	wantErr(t, tr.Rename("b", "x/y/z"), imap.ResponseCodeAlreadyExists, "Can't rename b to x/y/z: mailbox x/y/z already exists")
	wantErr(t, tr.Rename("b", "x"), imap.ResponseCodeAlreadyExists, "mailbox x already exists")
	wantErr(t, tr.Rename("b", "b"), imap.ResponseCodeAlreadyExists, "already exists")
	wantErr(t, tr.Rename("x", "x/q"), imap.ResponseCodeCannot, "can't be moved inside itself")
	wantErr(t, tr.Rename("x", "x/y/q"), imap.ResponseCodeCannot, "can't be moved inside itself")
	wantErr(t, tr.Rename("x", "b/q"), imap.ResponseCodeCannot, "b is a message folder and cannot hold folders")
	// A whole folder of folders moves.
	if err := tr.Rename("x", "w/x2"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, tr, "w/x2/y/z", MessageFolder)
	wantKind(t, tr, "x", NotFound)
	// UTF-8 names are stored as modified UTF-7.
	if err := tr.Rename("b", "Entwürfe"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(tr.Root(), "Entw&APw-rfe")); err != nil {
		t.Fatal(err)
	}
}

func TestPathAndUTF7Names(t *testing.T) {
	tr := newTree(t)
	p := mustCreate(t, tr, "Entwürfe")
	if want := filepath.Join(tr.Root(), "Entw&APw-rfe"); p != want {
		t.Fatalf("Create = %q, want %q", p, want)
	}
	p = mustCreate(t, tr, "R&D/台北")
	if want := filepath.Join(tr.Root(), "R&-D", "&U,BTFw-"); p != want {
		t.Fatalf("Create = %q, want %q", p, want)
	}
	got, err := tr.Path("Entwürfe")
	if err != nil || got != filepath.Join(tr.Root(), "Entw&APw-rfe") {
		t.Fatalf("Path = %q, %v", got, err)
	}
	got, err = tr.Path("not/there/yet")
	if err != nil || got != filepath.Join(tr.Root(), "not", "there", "yet") {
		t.Fatalf("Path = %q, %v", got, err)
	}
	got, err = tr.Path("R&D/")
	if err != nil || got != filepath.Join(tr.Root(), "R&-D") {
		t.Fatalf("Path = %q, %v", got, err)
	}
}

// Names that would leave the root, or that the server reserves, are refused
// by every operation, and nothing is created anywhere.
func TestUnsafeNames(t *testing.T) {
	tr := newTree(t)
	mustCreate(t, tr, "ok/")
	bad := []string{
		"..", "../x", "a/../../x", "a/..", ".", "./a", "a/./b",
		"/etc/passwd", "/", "~root/x", "~", "#news.comp", "#shared/x",
		"a\x00b", "a\rb", "a\nb", "a\tb", "a\x7fb", "a\u0085b",
		"a//b", "//", "a\\b", "..\\x",
		".mailboxlist", "x.lock", "ok/x.lock", "ok/a.lock.123.45.host", ".imapd-journal", ".IMAPD", ".mlbxlsttmp",
		"bad\xffutf8",
		strings.Repeat("a/", MaxDepth) + "a",
		strings.Repeat("x", 256),
		strings.Repeat("ü", 100),
		"",
	}
	for _, n := range bad {
		if _, err := tr.Create(n); err == nil {
			t.Errorf("Create(%q) succeeded", n)
		}
		if _, err := tr.Path(n); err == nil {
			t.Errorf("Path(%q) succeeded", n)
		}
		if _, err := tr.Kind(n); err == nil {
			t.Errorf("Kind(%q) succeeded", n)
		}
		if err := tr.Delete(n); err == nil {
			t.Errorf("Delete(%q) succeeded", n)
		}
		if err := tr.Rename("ok", n); err == nil {
			t.Errorf("Rename(ok, %q) succeeded", n)
		}
		if err := tr.Rename(n, "new"); err == nil {
			t.Errorf("Rename(%q, new) succeeded", n)
		}
		if err := tr.Subscribe(n); err == nil {
			t.Errorf("Subscribe(%q) succeeded", n)
		}
	}
	_, err := tr.Create("a/../b")
	wantErr(t, err, imap.ResponseCodeCannot, `"." and ".." are not allowed`)
	_, err = tr.Create("/etc/x")
	wantErr(t, err, imap.ResponseCodeCannot, "absolute names are not allowed")
	_, err = tr.Create("~root/x")
	wantErr(t, err, imap.ResponseCodeCannot, "other users' folders")
	_, err = tr.Create("a\r\nb")
	wantErr(t, err, imap.ResponseCodeCannot, "control characters are not allowed")
	_, err = tr.Create("a//b")
	wantErr(t, err, imap.ResponseCodeCannot, "empty level")
	_, err = tr.Create(".mailboxlist")
	wantErr(t, err, imap.ResponseCodeCannot, "reserved for the subscription list")
	// The root holds only what was made on purpose, the spool dir only bob,
	// bob.mbx.
	entries, _ := os.ReadDir(tr.Root())
	if len(entries) != 1 || entries[0].Name() != "ok" {
		t.Fatalf("root holds %v", entries)
	}
	entries, _ = os.ReadDir(filepath.Dir(tr.Root()))
	if len(entries) != 2 {
		t.Fatalf("spool holds %v", entries)
	}
	// A subscription file name elsewhere than the root is an ordinary name.
	mustCreate(t, tr, "ok/.mailboxlist")
}

func symlinkOrSkip(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks not available: %v", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Skipf("symlinks not available (Lstat after Symlink: %v)", err) // Wine
	}
}

// tempDir is a temporary directory that is cleaned up under Wine too.
var tempDir = testdir.New

func TestSymlinkEscapes(t *testing.T) {
	tr := newTree(t)
	mustCreate(t, tr, "a/b")
	outside := filepath.Join(filepath.Dir(filepath.Dir(tr.Root())), "outside")
	if err := os.MkdirAll(filepath.Join(outside, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	etc := "/etc"
	if runtime.GOOS == "windows" {
		etc = outside
	}
	symlinkOrSkip(t, etc, filepath.Join(tr.Root(), "etc"))          // to a system directory
	symlinkOrSkip(t, outside, filepath.Join(tr.Root(), "a", "out")) // a directory in the middle
	symlinkOrSkip(t, secret, filepath.Join(tr.Root(), "stolen"))    // to a file
	symlinkOrSkip(t, "b", filepath.Join(tr.Root(), "a", "inside"))  // even inside the root
	symlinkOrSkip(t, "../..", filepath.Join(tr.Root(), "a", "up"))  // relative escape
	for _, n := range []string{"etc", "etc/passwd", "a/out", "a/out/secret", "a/out/sub/x", "stolen", "a/inside", "a/up/outside/secret"} {
		_, err := tr.Kind(n)
		wantErr(t, err, imap.ResponseCodeNoPerm, "is a symbolic link (refused)")
		_, err = tr.Path(n)
		wantErr(t, err, imap.ResponseCodeNoPerm, "is a symbolic link")
		_, err = tr.Create(n)
		wantErr(t, err, imap.ResponseCodeNoPerm, "is a symbolic link")
		wantErr(t, tr.Delete(n), imap.ResponseCodeNoPerm, "is a symbolic link")
		wantErr(t, tr.Rename(n, "moved"), imap.ResponseCodeNoPerm, "is a symbolic link")
		wantErr(t, tr.Rename("a/b", n+"/x"), imap.ResponseCodeNoPerm, "is a symbolic link")
		wantErr(t, tr.Subscribe(n), imap.ResponseCodeNoPerm, "is a symbolic link")
	}
	_, err := tr.Create("a/out/new")
	wantErr(t, err, imap.ResponseCodeNoPerm, "Can't access a/out/new: a/out is a symbolic link (refused)")
	if _, err := os.Lstat(filepath.Join(outside, "new")); err == nil {
		t.Fatal("a file was created through the link")
	}
	wantKind(t, tr, "a/b", MessageFolder) // untouched
	if _, err := os.Lstat(secret); err != nil {
		t.Fatal("the outside file is gone")
	}
	// LIST shows none of them.
	for _, e := range list(t, tr, "", "*") {
		if e.Name != "a" && e.Name != "a/b" && e.Name != "INBOX" {
			t.Errorf("LIST shows %q", e.Name)
		}
	}
	wantErr(t, CheckFile(filepath.Join(tr.Root(), "stolen")), imap.ResponseCodeNoPerm, "is a symbolic link (refused)")
}

func TestSymlinkedRootRefused(t *testing.T) {
	tr := newTree(t)
	real := tr.Root() + ".real"
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	symlinkOrSkip(t, real, tr.Root())
	_, err := tr.Create("x")
	wantErr(t, err, imap.ResponseCodeNoPerm, "The folder directory is a symbolic link (refused)")
	_, err = tr.List("", []string{"*"})
	wantErr(t, err, imap.ResponseCodeNoPerm, "symbolic link")
	wantErr(t, tr.Subscribe("INBOX"), imap.ResponseCodeNoPerm, "symbolic link")
	if entries, _ := os.ReadDir(real); len(entries) != 0 {
		t.Fatalf("created through the link: %v", entries)
	}
}

func TestCheckFile(t *testing.T) {
	tr := newTree(t)
	p := mustCreate(t, tr, "f")
	if err := CheckFile(p); err != nil {
		t.Fatal(err)
	}
	inbox, _ := tr.Path("INBOX")
	if err := CheckFile(inbox); err != nil {
		t.Fatal(err)
	}
	err := CheckFile(filepath.Join(tr.Root(), "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("CheckFile(missing) = %v, want fs.ErrNotExist", err)
	}
	wantErr(t, err, imap.ResponseCodeNonExistent, "Can't open mailbox")
	wantErr(t, CheckFile(tr.Root()), imap.ResponseCodeCannot, "holds folders")
	if runtime.GOOS == "windows" {
		return // no link count there
	}
	if err := os.Link(p, filepath.Join(tr.Root(), "hard")); err != nil {
		t.Skipf("hard links not available: %v", err)
	}
	wantErr(t, CheckFile(p), imap.ResponseCodeNoPerm, "has 2 hard links (refused)")
}

func TestSpecialFilesRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix sockets in the file system here")
	}
	tr := newTree(t)
	mustCreate(t, tr, "d/")
	fifo := filepath.Join(tr.Root(), "d", "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := tr.Kind("d/fifo")
	wantErr(t, err, imap.ResponseCodeNoPerm, "is not a regular file or directory (refused)")
	wantErr(t, CheckFile(fifo), imap.ResponseCodeNoPerm, "not a regular file")
	if got := render(list(t, tr, "", "*")); got != `(\Noselect \HasNoChildren) "/" d`+"\n"+`(\Noinferiors) NIL INBOX`+"\n" {
		t.Fatalf("LIST:\n%s", got)
	}
}

func TestTooDeep(t *testing.T) {
	tr := newTree(t)
	name := strings.TrimSuffix(strings.Repeat("d/", MaxDepth), "/")
	mustCreate(t, tr, name) // 20 levels: fine
	wantKind(t, tr, name, MessageFolder)
	_, err := tr.Create(name + "/x")
	wantErr(t, err, imap.ResponseCodeCannot, "more than 20 levels")
	// LIST "*" stops at 20 levels even if the disk goes deeper.
	deep := filepath.Join(tr.Root(), filepath.FromSlash(strings.Repeat("e/", MaxDepth+2)))
	if err := os.MkdirAll(deep, 0o700); err != nil {
		t.Fatal(err)
	}
	max := 0
	for _, e := range list(t, tr, "", "*") {
		if n := strings.Count(e.Name, "/") + 1; n > max {
			max = n
		}
	}
	if max != MaxDepth {
		t.Fatalf("LIST went %d levels deep, want %d", max, MaxDepth)
	}
}

// setTimes sets atime and mtime of a file.
func setTimes(t *testing.T, path string, atime, mtime time.Time) {
	t.Helper()
	if err := os.Chtimes(path, atime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestNoRootConfigured(t *testing.T) {
	tr := New("", "/var/mail/bob", "")
	_, err := tr.Create("x")
	wantErr(t, err, imap.ResponseCodeUnavailable, "No folder directory")
	wantKind(t, tr, "INBOX", MessageFolder)
}

// FuzzNameStaysInRoot: whatever the name, a path Tree accepts is below the
// root (or is the drop file).
func FuzzNameStaysInRoot(f *testing.F) {
	for _, s := range []string{"a", "a/b", "..", "a/../..", "/etc", "~x", "Entwürfe", "R&D", "a\\..\\b", "C:x", "INBOX", "a/", ".mailboxlist"} {
		f.Add(s)
	}
	// Path creates nothing; the root need not exist.
	root := filepath.Join(os.TempDir(), "folders-fuzz-no-such-dir", "bob.mbx")
	inbox := filepath.Join(filepath.Dir(root), "bob")
	tr := New(root, inbox, ".mailboxlist")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := tr.Path(s)
		if err != nil {
			return
		}
		if p == inbox {
			if !isInbox(s) {
				t.Fatalf("Path(%q) = the drop file", s)
			}
			return
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || !filepath.IsLocal(rel) {
			t.Fatalf("Path(%q) = %q: not below the root", s, p)
		}
		for _, c := range strings.Split(filepath.ToSlash(rel), "/") {
			if c == "." || c == ".." || c == "" || reservedName(c) != "" || !printableASCII(c) {
				t.Fatalf("Path(%q) = %q: bad level %q", s, p, c)
			}
		}
	})
}
