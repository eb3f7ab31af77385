package filelock

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"imapd/internal/testdir"
)

// A child process (this test binary) holding the lock until it is killed.
func TestMain(m *testing.M) {
	if path := os.Getenv("FILELOCK_TEST_HOLD"); path != "" {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err == nil {
			mode := Exclusive
			if os.Getenv("FILELOCK_TEST_MODE") == "shared" {
				mode = Shared
			}
			err = Lock(f, mode)
		}
		if err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Hour) // until killed (select {} would be a deadlock the runtime ends)
	}
	os.Exit(m.Run())
}

// holder starts a process holding a lock on path; it is killed at the end
// of the test (or by the returned kill).
func holder(t *testing.T, path, mode string) (kill func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FILELOCK_TEST_HOLD="+path, "FILELOCK_TEST_MODE="+mode)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill = func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Cleanup(kill)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("holder: %q %v", line, err)
	}
	return kill
}

func open(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func try(t *testing.T, f *os.File, m Mode) bool {
	t.Helper()
	ok, err := TryLock(f, m)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestAcrossProcesses: a lock held by another process excludes ours until
// that process dies (SIGKILL: the system releases it).
func TestAcrossProcesses(t *testing.T) {
	path := filepath.Join(testdir.New(t), "f")
	f := open(t, path)
	kill := holder(t, path, "exclusive")
	if try(t, f, Shared) || try(t, f, Exclusive) {
		t.Fatal("locked a file another process holds exclusively")
	}
	if held, _ := Probe(f); !held {
		t.Error("Probe: not held")
	}
	if err := LockBefore(f, Exclusive, time.Now().Add(20*time.Millisecond)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("LockBefore: %v", err)
	}
	kill()
	if err := LockBefore(f, Exclusive, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	if err := Unlock(f); err != nil {
		t.Fatal(err)
	}
}

// TestSharedAcrossProcesses: readers share, a writer waits for them.
func TestSharedAcrossProcesses(t *testing.T) {
	path := filepath.Join(testdir.New(t), "f")
	f := open(t, path)
	holder(t, path, "shared")
	if Advisory && !try(t, f, Shared) {
		t.Fatal("a shared lock excluded another shared lock")
	}
	Unlock(f)
	if try(t, f, Exclusive) {
		t.Fatal("exclusive lock while another process reads")
	}
}

// TestInProcess: two open files of one file exclude each other in one
// process too, on every system (fcntl included).
func TestInProcess(t *testing.T) {
	path := filepath.Join(testdir.New(t), "f")
	a, b := open(t, path), open(t, path)
	if !try(t, a, Exclusive) {
		t.Fatal("first lock")
	}
	if try(t, b, Exclusive) || try(t, b, Shared) {
		t.Fatal("second open file locked it too")
	}
	done := make(chan error)
	go func() { done <- Lock(b, Exclusive) }()
	if err := Unlock(a); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	if try(t, a, Shared) {
		t.Fatal("a locked what b holds")
	}
	Unlock(b)
	if !try(t, a, Shared) {
		t.Fatal("lock after both let go")
	}
	Unlock(a)
}
