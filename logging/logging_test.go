package logging

import (
	"bufio"
	"bytes"
	"fmt"
	"imapd/internal/testdir"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func fixedClock(l *Logger) {
	l.now = func() time.Time { return time.Date(2026, 11, 25, 22, 56, 37, 0, time.Local) }
}

func TestLineFormatAndLevels(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, LevelInfo)
	fixedClock(l)
	l.Infof("login user=%s host=%s", "bob", "10.0.0.1")
	l.Debugf("not shown")
	l.Errorf("two\r\nlines\x00 and \xff tab\tok é")
	pid := os.Getpid()
	want := fmt.Sprintf("2026-11-25 22:56:37 %d INFO login user=bob host=10.0.0.1\n", pid) +
		fmt.Sprintf("2026-11-25 22:56:37 %d ERROR two\\r\\nlines\\x00 and \\xff tab\tok é\n", pid)
	if got := buf.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if !l.Enabled(LevelError) || l.Enabled(LevelDebug) {
		t.Errorf("Enabled wrong for level info")
	}
}

func TestNilLoggerDiscards(t *testing.T) {
	var l *Logger
	l.Errorf("x")
	l.Infof("x")
	l.Debugf("x")
	if l.Enabled(LevelError) {
		t.Error("nil logger enabled")
	}
	if err := l.Close(); err != nil {
		t.Error(err)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Level{"error": LevelError, "INFO": LevelInfo, " Debug ": LevelDebug} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got, err := ParseLevel("verbose"); err == nil || got != LevelInfo {
		t.Errorf("ParseLevel(verbose) = %v, %v; want info and an error", got, err)
	}
}

func TestOpenFailureDiscards(t *testing.T) {
	dir := filepath.Join(tempDir(t), "missing", "dir")
	l, err := Open(dir, "imapd", LevelDebug, 0)
	if err == nil {
		t.Fatal("Open in a missing directory: no error")
	}
	if l == nil {
		t.Fatal("Open returned a nil Logger")
	}
	l.Errorf("goes nowhere")
	l.Close()
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("%s does not end with a newline", path)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestAppendAndReopenAfterMove(t *testing.T) {
	dir := tempDir(t)
	l, err := Open(dir, "imapd", LevelInfo, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Infof("one")
	path := filepath.Join(dir, "imapd.log")
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	l.Infof("two")
	if got := readLines(t, path+".moved"); len(got) != 1 || !strings.HasSuffix(got[0], " INFO one") {
		t.Errorf("moved file: %q", got)
	}
	if got := readLines(t, path); len(got) != 1 || !strings.HasSuffix(got[0], " INFO two") {
		t.Errorf("new file: %q", got)
	}
}

func TestRotationOneProcess(t *testing.T) {
	dir := tempDir(t)
	l, err := Open(dir, "imapd", LevelInfo, 300)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 20 {
		l.Infof("line %02d %s", i, strings.Repeat("x", 40))
	}
	path := filepath.Join(dir, "imapd.log")
	cur, old := readLines(t, path), readLines(t, path+".old")
	for name, lines := range map[string][]string{"log": cur, "old": old} {
		if n := len(strings.Join(lines, "\n")) + 1; n > 300 {
			t.Errorf("%s is %d bytes, max 300", name, n)
		}
	}
	if last := cur[len(cur)-1]; !strings.Contains(last, "line 19 ") {
		t.Errorf("last line %q", last)
	}
	if first := cur[0]; !strings.Contains(old[len(old)-1], fmt.Sprintf("line %02d ", lineNo(t, first)-1)) {
		t.Errorf(".old does not end just before %q", first)
	}
}

var lineRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (\d+) INFO (?:line|w(\d) n) (\d+) x+$`)

func lineNo(t *testing.T, line string) int {
	m := lineRE.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("malformed line %q", line)
	}
	n, _ := strconv.Atoi(m[3])
	return n
}

// TestHelperLogWriter is not a test: TestRotationTwoProcesses runs the test
// binary twice with it as a concurrent log writer.
func TestHelperLogWriter(t *testing.T) {
	dir := os.Getenv("LOGGING_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	id := os.Getenv("LOGGING_HELPER_ID")
	max, _ := strconv.ParseInt(os.Getenv("LOGGING_HELPER_MAX"), 10, 64)
	n, _ := strconv.Atoi(os.Getenv("LOGGING_HELPER_LINES"))
	l, err := Open(dir, "imapd", LevelInfo, max)
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the go signal (stdin closes) so both writers run together.
	bufio.NewReader(os.Stdin).ReadString('\n')
	for i := range n {
		l.Infof("w%s n %03d %s", id, i, strings.Repeat("x", 60))
	}
	l.Close()
}

// Two processes append 200 lines of the same size each; max_log_size is set
// so that exactly one rotation must happen. Every line must then be found
// exactly once, whole, in imapd.log or imapd.log.old: a rotation done twice
// (both processes renaming) would lose the first .old and its lines.
func TestRotationTwoProcesses(t *testing.T) {
	dir := tempDir(t)
	const perProc = 200
	lineLen := len(fmt.Sprintf("2026-11-25 22:56:37 %d INFO w0 n 000 %s\n", 1234567, strings.Repeat("x", 60)))
	max := int64(240 * lineLen)
	var cmds []*exec.Cmd
	var gos []interface{ Close() error }
	for id := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLogWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			"LOGGING_HELPER_DIR="+dir,
			"LOGGING_HELPER_ID="+strconv.Itoa(id),
			"LOGGING_HELPER_MAX="+strconv.FormatInt(max, 10),
			"LOGGING_HELPER_LINES="+strconv.Itoa(perProc))
		w, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("helper %d output:\n%s", id, out.String())
			}
		})
		cmds = append(cmds, cmd)
		gos = append(gos, w)
	}
	for _, w := range gos {
		w.Close()
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
	}
	path := filepath.Join(dir, "imapd.log")
	seen := map[string]int{}
	for _, p := range []string{path, path + ".old"} {
		for _, line := range readLines(t, p) {
			m := lineRE.FindStringSubmatch(line)
			if m == nil || m[2] == "" {
				t.Fatalf("%s: malformed line %q", p, line)
			}
			seen[m[2]+"/"+m[3]]++
		}
	}
	for id := range 2 {
		for i := range perProc {
			if k := fmt.Sprintf("%d/%03d", id, i); seen[k] != 1 {
				t.Errorf("line %s found %d times", k, seen[k])
			}
		}
	}
	if len(seen) != 2*perProc {
		t.Errorf("%d distinct lines, want %d", len(seen), 2*perProc)
	}
}

// tempDir is a temporary directory that is cleaned up under Wine too.
var tempDir = testdir.New
