package relay

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"imapd/config"
	"imapd/internal/testdir"
)

// The test binary doubles as a second imapd process writing records: with
// RELAY_TEST_ADD=path,prefix,n it adds n records and exits.
func TestMain(m *testing.M) {
	if v := os.Getenv("RELAY_TEST_ADD"); v != "" {
		f := strings.Split(v, ",")
		n, _ := strconv.Atoi(f[2])
		for i := range n {
			if err := Add(f[0], fmt.Sprintf("%s.%d", f[1], i), "u"+f[1], time.Now(), time.Hour); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var t0 = time.Unix(1767225600, 0)

func TestAddAndAllowed(t *testing.T) {
	path := filepath.Join(testdir.New(t), FileName)
	const w = 900 * time.Second
	if _, ok, err := Allowed(path, "192.0.2.7", t0, w); ok || err != nil {
		t.Fatalf("no file: %v %v", ok, err)
	}
	if err := Add(path, "192.0.2.7", "alice", t0, w); err != nil {
		t.Fatal(err)
	}
	if err := Add(path, "::ffff:192.0.2.8", "bob", t0.Add(10*time.Second), w); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if want := "1767225600 192.0.2.7 alice\n1767225610 192.0.2.8 bob\n"; string(b) != want {
		t.Errorf("file:\n%s\nwant:\n%s", b, want)
	}
	r, ok, err := Allowed(path, "192.0.2.7", t0.Add(w-time.Second), w)
	if !ok || err != nil || r.User != "alice" {
		t.Errorf("within the window: %+v %v %v", r, ok, err)
	}
	if _, ok, _ := Allowed(path, "192.0.2.7", t0.Add(w), w); ok {
		t.Error("at the end of the window: still allowed")
	}
	if _, ok, _ := Allowed(path, "::ffff:192.0.2.8", t0.Add(w), w); !ok {
		t.Error("an IPv4-mapped address is the IPv4 one")
	}
	if _, ok, _ := Allowed(path, "192.0.2.9", t0, w); ok {
		t.Error("another address allowed")
	}
	if _, _, err := Allowed(path, "not-an-ip", t0, w); err == nil {
		t.Error("a bad address is no error")
	}
	// A later login of the same address replaces its record; expired ones
	// are pruned by the next write.
	if err := Add(path, "192.0.2.8", "carol", t0.Add(w+5*time.Second), w); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	if want := "1767226505 192.0.2.8 carol\n"; string(b) != want {
		t.Errorf("after expiry:\n%s\nwant:\n%s", b, want)
	}
	if err := Add(path, "nonsense", "x", t0, w); err == nil {
		t.Error("a bad client address was recorded")
	}
	if err := Add(path, "192.0.2.1", "x", t0, 0); err != nil {
		t.Error(err)
	}
	if _, ok, _ := Allowed(path, "192.0.2.1", t0, w); ok {
		t.Error("forward_window 0 recorded a login")
	}
}

// Lines that do not parse are skipped and dropped at the next write.
func TestMalformedLines(t *testing.T) {
	path := filepath.Join(testdir.New(t), FileName)
	junk := "garbage\n1767225600 192.0.2.7\n-5 192.0.2.7 x\n1767225600 999.1.1.1 x\n" +
		strings.Repeat("x", 5000) + "\n1767225600 192.0.2.7 alice\n"
	os.WriteFile(path, []byte(junk), 0o644)
	recs, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	// The over-long line stops the scan: what follows it is not read.
	if len(recs) != 0 {
		t.Errorf("records %+v", recs)
	}
	os.WriteFile(path, []byte("garbage\n1767225600 192.0.2.7 alice\n"), 0o644)
	if _, ok, err := Allowed(path, "192.0.2.7", t0, time.Minute); !ok || err != nil {
		t.Errorf("valid line after garbage: %v %v", ok, err)
	}
	if err := Add(path, "192.0.2.8", "bob", t0, time.Minute); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if want := "1767225600 192.0.2.7 alice\n1767225600 192.0.2.8 bob\n"; string(b) != want {
		t.Errorf("rewritten:\n%s", b)
	}
}

func TestBounded(t *testing.T) {
	path := filepath.Join(testdir.New(t), FileName)
	var b strings.Builder
	for i := range MaxRecords + 50 {
		fmt.Fprintf(&b, "%d 10.%d.%d.%d u\n", t0.Unix()+int64(i), i>>16&255, i>>8&255, i&255)
	}
	os.WriteFile(path, []byte(b.String()), 0o644)
	if err := Add(path, "192.0.2.7", "alice", t0.Add(6*time.Hour), 10*time.Hour); err != nil {
		t.Fatal(err)
	}
	recs, _ := Read(path)
	if len(recs) != MaxRecords {
		t.Fatalf("%d records, want %d", len(recs), MaxRecords)
	}
	if _, ok, _ := Allowed(path, "10.0.0.0", t0.Add(6*time.Hour), 10*time.Hour); ok {
		t.Error("the oldest record was kept")
	}
	if _, ok, _ := Allowed(path, "192.0.2.7", t0.Add(6*time.Hour), 10*time.Hour); !ok {
		t.Error("the newest record was dropped")
	}
}

// Many goroutines and several processes record at once: every record is
// there, every line parses.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(testdir.New(t), FileName)
	const procs, goroutines, each = 3, 4, 15
	var wg sync.WaitGroup
	errs := make(chan error, procs+goroutines)
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("RELAY_TEST_ADD=%s,10.1.%d,%d", path, p, each))
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("process %d: %v %s", p, err, out)
			}
		}()
	}
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := Add(path, fmt.Sprintf("10.2.%d.%d", g, i), "g", time.Now(), time.Hour); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != (procs+goroutines)*each {
		t.Errorf("%d lines, want %d", len(lines), (procs+goroutines)*each)
	}
	for _, l := range lines {
		if _, ok := parseLine(l); !ok {
			t.Errorf("torn line %q", l)
		}
	}
}

func TestPath(t *testing.T) {
	cfg := config.Defaults()
	if Path(cfg) != "" {
		t.Error("a path without work_path or file")
	}
	cfg.Files = []string{filepath.Join("etc", "dmail.conf")}
	if got := Path(cfg); got != filepath.Join("etc", FileName) {
		t.Errorf("next to dmail.conf: %s", got)
	}
	cfg.WorkPath = filepath.Join("var", "dmail")
	if got := Path(cfg); got != filepath.Join("var", "dmail", FileName) {
		t.Errorf("work_path: %s", got)
	}
}
