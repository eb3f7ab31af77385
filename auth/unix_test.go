package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"imapd/config"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func hashOf(t *testing.T, pw string) string {
	t.Helper()
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestUnixShadow(t *testing.T) {
	dir := tempDir(t)
	passwd := writeFile(t, dir, "passwd", strings.Join([]string{
		"root:x:0:0:root:/root:/bin/bash",
		"alice:x:1001:1001:Alice:/home/alice:/bin/sh",
		"bob:x:1002:100::/home/bob:/bin/sh",
		"carol:x:1003:100::/home/carol:/bin/sh",
		"dave:x:1004:100::/home/dave:/bin/sh",
		"erin:x:1005:100::/home/erin:/bin/sh",
		"nosh:x:1006:100::/home/nosh:/bin/sh",
		"inline:" + hashOf(t, "inl ine") + ":1007:100::/home/inline:/bin/sh",
		"des:kBbGGDYtjXVko:1008:100::/home/des:/bin/sh",
	}, "\n")+"\n")
	shadow := writeFile(t, dir, "shadow", strings.Join([]string{
		"root:*:19000:0:99999:7:::",
		"alice:" + hashOf(t, "alice pw") + ":19000:0:99999:7:::",
		"bob:!" + hashOf(t, "bob pw") + ":19000:0:99999:7:::",   // locked
		"carol::19000:0:99999:7:::",                             // no password
		"dave:" + hashOf(t, "dave pw") + ":19000:0:99999:7::1:", // expired in 1970
		"erin:$y$j9T$SyGCO6kXUXYfnWeHUHzYx/$EmeNyC5AnEp7lkyqMoGDpbuyN00N9AQkgYb7hsoK7m.:19000:0:99999:7:::",
	}, "\n")+"\n")
	u := &Unix{PasswdFile: passwd, ShadowFile: shadow}

	r, err := u.Check("alice", "alice pw", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if r.User != "alice" || r.UID != 1001 || r.GID != 1001 || r.Home != "/home/alice" || r.DropFile != "" {
		t.Fatalf("%+v", r)
	}
	for _, ok := range [][2]string{{"erin", "pa ss"}, {"inline", "inl ine"}, {"des", "test"}} {
		if _, err := u.Check(ok[0], ok[1], ""); err != nil {
			t.Errorf("%s: %v", ok[0], err)
		}
	}
	for _, bad := range [][2]string{
		{"alice", "wrong"}, {"alice", "ALICE PW"}, {"bob", "bob pw"}, {"carol", "x"}, {"root", "x"},
		{"dave", "dave pw"}, {"nosh", "x"}, {"zed", "x"}, {"al:ice", "x"}, {"alice", ""}, {"", "x"},
	} {
		_, err := u.Check(bad[0], bad[1], "")
		if !errors.Is(err, ErrRejected) {
			t.Errorf("Check(%q, %q) = %v, want ErrRejected", bad[0], bad[1], err)
		}
		if err != nil && bad[1] != "" && strings.Contains(err.Error(), bad[1]+"\"") {
			t.Errorf("error holds the password: %v", err)
		}
	}
	u.LowercasePassword = true
	if _, err := u.Check("alice", "ALICE PW", ""); err != nil {
		t.Fatalf("lowercase_password: %v", err)
	}

	// Unreadable files are temporary failures.
	u2 := &Unix{PasswdFile: passwd, ShadowFile: filepath.Join(dir, "missing")}
	if _, err := u2.Check("alice", "alice pw", ""); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("missing shadow: %v", err)
	}
	u3 := &Unix{PasswdFile: filepath.Join(dir, "missing")}
	if _, err := u3.Check("alice", "alice pw", ""); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("missing passwd: %v", err)
	}
}

func TestUnixMasterPasswd(t *testing.T) {
	dir := tempDir(t)
	mp := writeFile(t, dir, "master.passwd", strings.Join([]string{
		"# comment",
		"amy:" + hashOf(t, "amy pw") + ":2001:20::0:0:Amy:/home/amy:/bin/sh",
		"old:" + hashOf(t, "old pw") + ":2002:20::0:1:Old:/home/old:/bin/sh", // expired in 1970
		"ext:_J9..VhOeaCQ5Xg2o5kA:2003:20::0:0:Ext:/home/ext:/bin/sh",
	}, "\n")+"\n")
	u := &Unix{PasswdFile: mp}
	r, err := u.Check("amy", "amy pw", "")
	if err != nil || r.UID != 2001 || r.GID != 20 || r.Home != "/home/amy" {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := u.Check("ext", "test", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Check("old", "old pw", ""); !errors.Is(err, ErrRejected) {
		t.Fatalf("expired: %v", err)
	}
}

func TestUnixVDomainPasswd(t *testing.T) {
	dir := tempDir(t)
	main := writeFile(t, dir, "passwd", "bob:"+hashOf(t, "main pw")+":1000:100::/home/bob:/bin/sh\n")
	vd := writeFile(t, dir, "vd.passwd", "bob:"+hashOf(t, "vd pw")+":3000:300::/home/vd/bob:/bin/false\n")
	cfg := &config.Config{VDomainPasswd: map[string]string{"vd.example": vd}}
	u := &Unix{PasswdFile: main, VDomainPasswd: cfg.VDomainPasswd}
	r, err := u.Check("bob@VD.example", "vd pw", "")
	if err != nil || r.UID != 3000 || r.User != "bob@VD.example" {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := u.Check("bob@vd.example", "main pw", ""); !errors.Is(err, ErrRejected) {
		t.Fatalf("main password in vdomain: %v", err)
	}
	if _, err := u.Check("bob", "main pw", ""); err != nil {
		t.Fatal(err)
	}
	// A domain without its own file: the whole name is looked up (and not found).
	if _, err := u.Check("bob@other.example", "main pw", ""); !errors.Is(err, ErrRejected) {
		t.Fatalf("other domain: %v", err)
	}
}
