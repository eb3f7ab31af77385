package auth

import (
	"bufio"
	"fmt"
	"imapd/internal/testdir"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the external authenticator: with
// AUTH_TEST_HELPER set it runs helperMain instead of the tests. The helper
// appends what it sees to the file AUTH_TEST_LOG ("start <args>",
// "pass <password>", "ip <ip>", "exit") before it answers, so a test that has
// its answer can read the log.
func TestMain(m *testing.M) {
	if mode := os.Getenv("AUTH_TEST_HELPER"); mode != "" {
		helperMain(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func helperLog(format string, args ...any) {
	f, err := os.OpenFile(os.Getenv("AUTH_TEST_LOG"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		os.Exit(9)
	}
	fmt.Fprintf(f, format+"\n", args...)
	f.Close()
}

func helperMain(mode string) {
	helperLog("start %s", strings.Join(os.Args[1:], " "))
	if mode == "hang" { // a helper process that holds the output pipe and a FIFO
		f, err := os.OpenFile(os.Getenv("AUTH_TEST_FIFO"), os.O_WRONLY, 0)
		if err != nil {
			os.Exit(8)
		}
		fmt.Fprintln(f, "ready")
		fmt.Fprintln(os.Stderr, "ready") // tells the parent helper
		time.Sleep(time.Hour)            // a process that hangs: killed by the test
		os.Exit(0)
	}
	in := bufio.NewReader(os.Stdin)
	out := os.Stdout
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			if mode == "deaf" {
				time.Sleep(time.Hour) // deaf to the end of its input too: killed by the caller
			}
			return
		}
		line = strings.TrimSuffix(line, "\n")
		verb, rest, _ := strings.Cut(line, " ")
		switch verb {
		case "exit":
			helperLog("exit")
			if mode == "deaf" {
				continue
			}
			fmt.Fprintln(out, "+OK")
			return
		case "lookup":
			if mode == "spawn" {
				// Start a helper that keeps our output open and hangs, wait
				// until it is up, then answer.
				cmd := exec.Command(os.Args[0])
				cmd.Env = append(os.Environ(), "AUTH_TEST_HELPER=hang")
				cmd.Stdout = os.Stdout
				errp, _ := cmd.StderrPipe()
				if err := cmd.Start(); err != nil {
					os.Exit(7)
				}
				bufio.NewReader(errp).ReadString('\n')
				helperLog("child %d", cmd.Process.Pid)
			}
			fmt.Fprintf(out, "+OK %s /spool/%s 0\n", rest, rest)
		case "check":
			user, rest, _ := strings.Cut(rest, " ")
			pass, ip := rest, ""
			if i := strings.LastIndexByte(rest, ' '); i >= 0 {
				pass, ip = rest[:i], rest[i+1:]
			}
			helperLog("pass %s", pass)
			helperLog("ip %s", ip)
			if mode == "silent" || mode == "deaf" || mode == "spawn" {
				continue // never answers
			}
			switch pass {
			case "good pass":
				fmt.Fprintf(out, "+OK %s /var/spool/mail/%s 1001 quota=100 more info\n", strings.ToUpper(user), user)
			case "minimal":
				fmt.Fprintln(out, "+OK")
			case "nouid":
				fmt.Fprintf(out, "+OK %s /d/%s\n", user, user)
			case "textuid":
				fmt.Fprintf(out, "+OK %s /d/%s info only\n", user, user)
			case "dead":
				fmt.Fprintln(out, "-DEAD database down")
			case "crash":
				os.Exit(3)
			case "hang":
				time.Sleep(time.Hour) // killed by the caller's timeout
			case "garbage":
				fmt.Fprintln(out, "hello there")
			case "data":
				fmt.Fprintln(out, "+DATA something")
				fmt.Fprintf(out, "+OK %s /d/%s 5\n", user, user)
			case "crlf":
				fmt.Fprintf(out, "+OK %s /d/%s 6\r\n", user, user)
			case "partial":
				fmt.Fprintf(out, "+OK %s /d/%s 7", user, user)
				os.Exit(0)
			case "long":
				fmt.Fprintf(out, "+OK %s %s\n", user, strings.Repeat("x", 5000))
			default:
				fmt.Fprintln(out, "-ERR Invalid login")
			}
		default:
			fmt.Fprintln(out, "-ERR unknown command")
		}
	}
}

// helper returns the command line running the helper in mode, with its log.
func helper(t testing.TB, mode string, args ...string) (command, logFile string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(exe, " \t") {
		t.Skipf("test binary path %q has spaces: authent_process cannot hold it", exe)
	}
	logFile = tempDir(t) + string(os.PathSeparator) + "helper.log"
	t.Setenv("AUTH_TEST_HELPER", mode)
	t.Setenv("AUTH_TEST_LOG", logFile)
	return strings.Join(append([]string{exe}, args...), " "), logFile
}

func readLog(t testing.TB, logFile string) []string {
	t.Helper()
	b, err := os.ReadFile(logFile)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// tempDir is a temporary directory that is cleaned up under Wine too.
var tempDir = testdir.New
