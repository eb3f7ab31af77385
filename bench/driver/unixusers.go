package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// unixUserPrefix starts the names of the real unix users the inetd servers
// log in as; no system account starts so.
const unixUserPrefix = "imapdb"

// createUnixUsers adds users as real unix users (useradd), each with a
// yescrypt hash of its password in /etc/shadow (mkpasswd -m yescrypt: the
// hash libxcrypt writes, Debian's default since 11) and a home below
// workdir, as the manual's deployment has them: inetd, unix_user, a
// process per connection becoming the user. A user left by an earlier,
// interrupted run is reused. The cleanup removes them (userdel).
func createUnixUsers(users []benchAccount, workdir string) (func(), error) {
	for _, tool := range []string{"useradd", "userdel", "usermod", "mkpasswd"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("real unix users need %s (mkpasswd: Debian package whois): %w", tool, err)
		}
	}
	homes := filepath.Join(workdir, "unixhome")
	if err := os.MkdirAll(homes, 0o755); err != nil {
		return nil, err
	}
	var made []string
	cleanup := func() {
		for _, name := range made {
			if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "driver: userdel %s: %v: %s\n", name, err, out)
			}
		}
	}
	for i := range users {
		u := &users[i]
		if !strings.HasPrefix(u.Name, unixUserPrefix) {
			cleanup()
			return nil, fmt.Errorf("refusing to create unix user %q: not a bench user", u.Name)
		}
		cmd := exec.Command("mkpasswd", "-m", "yescrypt", "-s")
		cmd.Stdin = strings.NewReader(u.Password + "\n")
		out, err := cmd.Output()
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("mkpasswd -m yescrypt: %w", err)
		}
		hash := strings.TrimSpace(string(out))
		u.Home = filepath.Join(homes, u.Name)
		args := []string{"-d", u.Home, "-M", "-s", "/usr/sbin/nologin", "-p", hash, u.Name}
		if _, lerr := user.Lookup(u.Name); lerr == nil {
			out, err = exec.Command("usermod", args...).CombinedOutput()
		} else {
			out, err = exec.Command("useradd", append([]string{"-U"}, args...)...).CombinedOutput()
		}
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("useradd %s: %v: %s", u.Name, err, out)
		}
		made = append(made, u.Name)
		pw, err := user.Lookup(u.Name)
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("look up %s: %w", u.Name, err)
		}
		u.UID, _ = strconv.Atoi(pw.Uid)
		u.GID, _ = strconv.Atoi(pw.Gid)
	}
	return cleanup, nil
}

// freshHomes empties and recreates the unix users' homes before a server
// run (Dovecot keeps folders and subscriptions there).
func freshHomes(users []benchAccount) error {
	for _, u := range users {
		if u.Home == "" {
			continue
		}
		if err := os.RemoveAll(u.Home); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(u.Home, "mail"), 0o700); err != nil {
			return err
		}
		for _, d := range []string{u.Home, filepath.Join(u.Home, "mail")} {
			if err := os.Chown(d, u.UID, u.GID); err != nil {
				return fmt.Errorf("chown %s: %w", d, err)
			}
		}
	}
	return nil
}
