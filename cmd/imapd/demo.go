package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"imapd/demo"
)

// demoAddr is where -demo listens unless -listen says otherwise.
const demoAddr = "127.0.0.1:1143"

// setupDemo builds a demo installation in a temporary directory and says
// how to use it. cryptauth must sit beside imapd (make build puts it there).
func setupDemo(addr string) (conf string, cleanup func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	name := "cryptauth"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	cryptauth := filepath.Join(filepath.Dir(self), name)
	if _, err := os.Stat(cryptauth); err != nil {
		if cryptauth, err = exec.LookPath(name); err != nil {
			return "", nil, fmt.Errorf("the demo authenticates with cryptauth, which must sit beside imapd (run `make demo`): %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "imapd-demo-")
	if err != nil {
		return "", nil, err
	}
	site, err := demo.Setup(dir, cryptauth)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	fmt.Fprintf(os.Stderr, "imapd demo: a DMail installation in %s\n", dir)
	fmt.Fprintf(os.Stderr, "  dmail.conf  %s\n  spool       %s\n  log         %s\n", site.Config, site.Spool, filepath.Join(site.Log, "imapd.log"))
	fmt.Fprintf(os.Stderr, "  users:")
	for _, u := range demo.Users {
		fmt.Fprintf(os.Stderr, " %s/%s", u.Name, u.Password)
	}
	fmt.Fprintf(os.Stderr, " (checked by %s over a crypt()ed password file)\n", cryptauth)
	fmt.Fprintf(os.Stderr, "  try:  telnet %s %s  then  a login alice alice-secret / b select inbox / c logout\n", hostOf(addr), portOf(addr))
	fmt.Fprintf(os.Stderr, "  or:   python3 -c \"import imaplib; m=imaplib.IMAP4('%s',%s); m.login('alice','alice-secret'); print(m.select('INBOX'))\"\n", hostOf(addr), portOf(addr))
	fmt.Fprintf(os.Stderr, "  stop with Ctrl-C; the directory is removed then.\n")
	return site.Config, func() { os.RemoveAll(dir) }, nil
}

func hostOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			if i == 0 {
				return "127.0.0.1"
			}
			return addr[:i]
		}
	}
	return addr
}

func portOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i+1:]
		}
	}
	return "143"
}
