package main

import (
	"bufio"
	"errors"
	"fmt"
	"imapd/internal/testdir"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"imapd/auth"
)

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds cryptauth once for all tests.
func binary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go toolchain on PATH: cannot build cryptauth for the test")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "cryptauth-test-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "cryptauth")
		if runtime.GOOS == "windows" {
			binPath += ".exe"
		}
		out, err := exec.Command(goTool, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	if strings.ContainsAny(binPath, " \t") {
		t.Skipf("binary path %q has spaces: authent_process cannot hold it", binPath)
	}
	return binPath
}

func runTool(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func addUser(t *testing.T, file string, args ...string) {
	t.Helper()
	if out, err := runTool(t, "", append([]string{"-add", file}, args...)...); err != nil {
		t.Fatalf("cryptauth -add %v: %v\n%s", args, err, out)
	}
}

func external(t *testing.T, args ...string) *auth.External {
	t.Helper()
	e, err := auth.NewExternal(strings.Join(append([]string{binary(t)}, args...), " "), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestCheckThroughExternal(t *testing.T) {
	dir := tempDir(t)
	file := filepath.Join(dir, "passwd")
	spool := filepath.Join(dir, "spool")
	addUser(t, file, "test", "pa ss")
	addUser(t, file, "Bob", "bob pw", filepath.Join(dir, "own", "bob"))
	// Entries from elsewhere: a DES hash made by mkpasswd ("test"), comments.
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "# old entries")
	fmt.Fprintln(f, "")
	fmt.Fprintln(f, "olddes:kBbGGDYtjXVko")
	f.Close()

	e := external(t, "-file", file, "-drop_path", spool, "-hash_spool", "1")
	r, err := e.Check("test", "pa ss", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	// The manual's example layout: <drop_path>/g/test.
	if r.User != "test" || r.DropFile != filepath.Join(spool, "g", "test") || r.UID != 0 {
		t.Fatalf("%+v", r)
	}
	// Case-insensitive names, the file's spelling comes back; own drop file.
	r, err = e.Check("BOB", "bob pw", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if r.User != "Bob" || r.DropFile != filepath.Join(dir, "own", "bob") {
		t.Fatalf("%+v", r)
	}
	if _, err := e.Check("olddes", "test", ""); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][2]string{{"test", "pa"}, {"test", "pa ss "}, {"test", "PA SS"}, {"nobody", "x"}, {"#", "x"}} {
		_, err := e.Check(bad[0], bad[1], "192.0.2.1")
		if !errors.Is(err, auth.ErrRejected) || !strings.Contains(err.Error(), "Invalid login") {
			t.Errorf("Check(%q, %q) = %v, want ErrRejected (Invalid login)", bad[0], bad[1], err)
		}
	}
	r, err = e.Lookup("TEST")
	if err != nil || r.User != "test" || r.DropFile != filepath.Join(spool, "g", "test") {
		t.Fatalf("lookup: %+v %v", r, err)
	}
	if _, err := e.Lookup("nobody"); !errors.Is(err, auth.ErrRejected) {
		t.Fatalf("lookup nobody: %v", err)
	}
	// The file is read per request: a password changed now works at once.
	addUser(t, file, "test", "changed")
	if _, err := e.Check("test", "changed", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
}

func TestHashSpoolAndDropPath(t *testing.T) {
	dir := tempDir(t)
	file := filepath.Join(dir, "passwd")
	addUser(t, file, "j.smith", "pw")
	e := external(t, "-file", file, "-drop_path", "/spool", "-hash_spool", "2")
	r, err := e.Check("j.smith", "pw", "127.0.0.1")
	if err != nil || r.DropFile != filepath.Join("/spool", "z", "s", "j.smith") {
		t.Fatalf("%+v %v", r, err)
	}
	e2 := external(t, "-file", file, "-drop_path", "/spool", "-hash_spool", "2", "-old_hashing")
	r, err = e2.Check("j.smith", "pw", "127.0.0.1")
	if err != nil || r.DropFile != filepath.Join("/spool", "z", "j.smith") {
		t.Fatalf("old hashing: %+v %v", r, err)
	}
	// Without drop_path the answer has no drop file: imapd keeps its own.
	e3 := external(t, "-file", file)
	r, err = e3.Check("j.smith", "pw", "127.0.0.1")
	if err != nil || r.User != "j.smith" || r.DropFile != "" {
		t.Fatalf("no drop path: %+v %v", r, err)
	}
}

func TestUnreadableFileIsDead(t *testing.T) {
	e := external(t, "-file", filepath.Join(tempDir(t), "missing"))
	_, err := e.Check("bob", "pw", "127.0.0.1")
	if !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
}

// The parts of the protocol auth.External does not send.
func TestRawProtocol(t *testing.T) {
	dir := tempDir(t)
	file := filepath.Join(dir, "passwd")
	addUser(t, file, "amy", "amy pw")
	cmd := exec.Command(binary(t), "-file", file, "-drop_path", "/d")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(outPipe)
	ask := func(line, want string) {
		t.Helper()
		io.WriteString(in, line+"\n")
		got, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if got = strings.TrimRight(got, "\r\n"); got != want {
			t.Fatalf("%q: got %q, want %q", line, got, want)
		}
	}
	ask("hello", "-ERR unknown command")
	ask("check amy amy", "-ERR Invalid login") // three fields: the third is the password
	ask("check amy amy pw", "-ERR Invalid login")
	ask("check amy amy pw 10.0.0.1", "+OK amy "+filepath.Join("/d", "amy")+" 0")
	ask("CHECK amy amy pw 10.0.0.1\r", "+OK amy "+filepath.Join("/d", "amy")+" 0")
	ask("check", "-ERR Invalid login")
	ask("lookup", "-ERR Unknown user")
	ask("exit", "+OK")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	// EOF on standard input ends it too.
	if out, err := runTool(t, "", "-file", file); err != nil || out != "" {
		t.Fatalf("EOF: %q %v", out, err)
	}
}

func TestAdd(t *testing.T) {
	dir := tempDir(t)
	file := filepath.Join(dir, "passwd")
	addUser(t, file, "amy", "one", "/drop/amy")
	addUser(t, file, "bob", "two")
	addUser(t, file, "AMY", "three") // replaces amy, keeps her drop file
	if out, err := runTool(t, "four\n", "-add", file, "carl", "-"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("file:\n%s", b)
	}
	want := []struct{ user, pass, drop string }{{"AMY", "three", "/drop/amy"}, {"bob", "two", ""}, {"carl", "four", ""}}
	for i, w := range want {
		f := strings.SplitN(lines[i], ":", 3)
		if f[0] != w.user || !strings.HasPrefix(f[1], "$6$") {
			t.Fatalf("line %d: %q", i, lines[i])
		}
		if ok, err := auth.VerifyCrypt(f[1], w.pass); !ok || err != nil {
			t.Fatalf("line %d: password does not verify: %v", i, err)
		}
		drop := ""
		if len(f) == 3 {
			drop = f[2]
		}
		if drop != w.drop {
			t.Fatalf("line %d: drop file %q, want %q", i, drop, w.drop)
		}
	}
	if runtime.GOOS != "windows" {
		if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v %v", st.Mode(), err)
		}
	}
	for _, bad := range [][]string{{"a:b", "pw"}, {"a b", "pw"}, {"#a", "pw"}, {"", "pw"}, {"ok", ""}, {"ok", "pw", "/a b"}} {
		if out, err := runTool(t, "", append([]string{"-add", file}, bad...)...); err == nil {
			t.Errorf("-add %q accepted: %s", bad, out)
		}
	}
	if _, err := runTool(t, ""); err == nil {
		t.Error("no arguments accepted")
	}
}

// tempDir is a temporary directory that is cleaned up under Wine too.
var tempDir = testdir.New
