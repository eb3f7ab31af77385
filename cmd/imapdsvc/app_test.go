package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"imapd/internal/spawn"
)

// writeConf writes a dmail.conf with log_path and dwatch_path in dir.
func writeConf(t *testing.T, dir string) (conf, logDir, dwatch string) {
	t.Helper()
	logDir, dwatch = filepath.Join(dir, "log"), filepath.Join(dir, "dwatch")
	for _, d := range []string{logDir, dwatch} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf = filepath.Join(dir, "dmail.conf")
	text := "# imapdsvc test\r\ndrop_path " + dir + "\r\nlog_path " + logDir + "\r\nlog_level info\r\ndwatch_path " + dwatch + "\r\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf, logDir, dwatch
}

// TestApp runs imapdsvc's start and stop as the foreground and the service
// do: config read, imapdsvc.log and the DWatch pid file written, one session
// served, then stopped with the pid file removed.
func TestApp(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	conf, logDir, dwatch := writeConf(t, tempDir(t))
	o := options{config: conf, listen: "127.0.0.1:0", imapd: exe, max: 10, grace: time.Minute, relay: !spawn.CanPassSocket}
	a, err := start(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dwatch, "imapdsvc.pid")
	if data, err := os.ReadFile(pidFile); err != nil || string(data) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("pid file: %q, %v", data, err)
	}
	c := dial(t, a.ln.Addr().String())
	c.Expect("* OK stand-in remote=" + c.NetConn().LocalAddr().String() + " local=" + a.ln.Addr().String() + " args=-i " + conf)
	c.Send("a LOGOUT")
	c.Expect("* BYE stand-in", "a OK LOGOUT")
	c.ExpectEOF()
	a.stop("test")

	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(logDir, "imapdsvc.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"INFO imapdsvc listening on " + a.ln.Addr().String(),
		"INFO connection from " + c.NetConn().LocalAddr().String(),
		"INFO imapdsvc stopping (test)",
		// The session may end, or only be reaped, after stop began.
		"sessions ended by themselves, 0 cut, 0 killed",
	} {
		if !strings.Contains(string(data), w) {
			t.Errorf("imapdsvc.log lacks %q:\n%s", w, data)
		}
	}
}

func TestAppStartErrors(t *testing.T) {
	dir := tempDir(t)
	conf, _, _ := writeConf(t, dir)
	exe, _ := os.Executable()
	for _, c := range []struct {
		name string
		o    options
		want string
	}{
		{"no config", options{config: filepath.Join(dir, "missing.conf"), listen: "127.0.0.1:0", imapd: exe}, "missing.conf"},
		{"no imapd", options{config: conf, listen: "127.0.0.1:0", imapd: filepath.Join(dir, "no-imapd")}, "imapd program"},
		{"bad listen", options{config: conf, listen: "127.0.0.1:x", imapd: exe}, "listen on 127.0.0.1:x"},
	} {
		a, err := start(c.o, nil)
		if err == nil {
			a.stop("test")
			t.Errorf("%s: started", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to mention %q", c.name, err, c.want)
		}
	}
}
