package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/mgr"

	"imapd/internal/imaptest"
)

// TestServiceControl installs imapdsvc as a real Windows service (this
// test binary in imapdsvc's place, see TestMain), starts it through the
// service manager, serves a session, stops it with a session running and
// removes it. It changes the machine's service database, so it runs only
// with IMAPDSVC_TEST_SCM=1: scripts/windows-test.sh sets it in a Wine
// prefix of its own (a service installed for automatic start in a shared
// prefix would start with every Wine program there).
func TestServiceControl(t *testing.T) {
	if os.Getenv("IMAPDSVC_TEST_SCM") != "1" {
		t.Skip("IMAPDSVC_TEST_SCM=1 not set: not touching the service manager")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	conf, logDir, dwatch := writeConf(t, tempDir(t))
	// A free port: the service listens on a fixed address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var out bytes.Buffer
	verb := func(args ...string) {
		t.Helper()
		out.Reset()
		if code := run(args, &out); code != 0 {
			t.Fatalf("imapdsvc %q: exit %d: %s", args, code, out.String())
		}
	}
	run([]string{"stop"}, &out) // leftovers of an interrupted run
	run([]string{"remove"}, &out)
	verb("-i", conf, "-listen", addr, "-imapd", exe, "-grace", "0s", "install")
	defer run([]string{"remove"}, &out)

	m, err := mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.OpenService(serviceName)
	if err != nil {
		t.Fatal(err)
	}
	// QueryServiceConfig itself: mgr's Config also asks QueryServiceConfig2
	// levels Wine does not have.
	cfg, err := serviceConfig(s)
	s.Close()
	m.Disconnect()
	if err != nil {
		t.Fatal(err)
	}
	path := windows.UTF16PtrToString(cfg.BinaryPathName)
	if windows.UTF16PtrToString(cfg.DisplayName) != serviceDisplayName || cfg.StartType != windows.SERVICE_AUTO_START ||
		!strings.Contains(path, "-service -i "+conf) || !strings.Contains(path, "-listen "+addr) {
		t.Errorf("service config: %s %q start type %d", windows.UTF16PtrToString(cfg.DisplayName), path, cfg.StartType)
	}

	verb("start")
	defer run([]string{"stop"}, &out)
	// The service manager reports "started" before the service listens:
	// poll the port, bounded (readiness only; nothing is asserted on time).
	var c *client
	for deadline := time.Now().Add(time.Minute); c == nil; {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			c = imaptest.New(t, conn)
			c.Timeout = 2 * time.Minute
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service not listening on %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.Expect("* OK stand-in remote=" + c.NetConn().LocalAddr().String() + " local=" + addr + " args=-i " + conf)
	c.Send("a ECHO from a service")
	c.Expect("* ECHO from a service", "a OK")

	pid, err := os.ReadFile(filepath.Join(dwatch, "imapdsvc.pid"))
	if err != nil || strings.TrimSpace(string(pid)) == "" {
		t.Errorf("pid file: %q, %v", pid, err)
	}

	// Stop with the session running: -grace 0s, so it is cut at once and
	// the stand-in sees end of input.
	verb("stop")
	c.ExpectEOF()
	data, err := os.ReadFile(filepath.Join(logDir, "imapdsvc.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"imapdsvc listening on " + addr,
		"imapdsvc stopping (service stop)",
		"stderr: stand-in: end of input",
		"imapdsvc stopped: 0 sessions ended by themselves, 1 cut, 0 killed",
	} {
		if !strings.Contains(string(data), w) {
			t.Errorf("imapdsvc.log lacks %q:\n%s", w, data)
		}
	}
	if _, err := os.Stat(filepath.Join(dwatch, "imapdsvc.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}

	verb("remove")
	m, err = mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(serviceName); err == nil {
		s.Close()
		t.Errorf("service still installed after remove")
	}
}

func serviceConfig(s *mgr.Service) (*windows.QUERY_SERVICE_CONFIG, error) {
	var need uint32
	buf := make([]byte, 8192)
	for {
		p := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&buf[0]))
		err := windows.QueryServiceConfig(s.Handle, p, uint32(len(buf)), &need)
		if err == windows.ERROR_INSUFFICIENT_BUFFER && int(need) > len(buf) {
			buf = make([]byte, need)
			continue
		}
		return p, err
	}
}
