package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// -where prints the drop file a session would use: drop_path, the
// hash_spool directories and the name, as in the manual's example
// /shared/spool/mail/g/test.
func TestWhere(t *testing.T) {
	dir := tempDir(t)
	conf := filepath.Join(dir, "dmail.conf")
	spool := filepath.Join(dir, "spool")
	if err := os.WriteFile(conf, []byte("drop_path "+spool+"\nhash_spool 1\nauthent_method unix_user\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	a := &app{path: conf}
	if rc := a.where("test", &out); rc != 0 {
		t.Fatalf("where: rc %d", rc)
	}
	want := "INBOX       " + filepath.Join(spool, "g", "test") + " (drop_path + hash_spool 1; does not exist yet)"
	if !strings.Contains(out.String(), want) {
		t.Errorf("-where output:\n%s\nwant a line\n%s", out.String(), want)
	}
	if rc := a.where("../etc/passwd", &out); rc == 0 {
		t.Error("-where accepted a name that leaves the spool")
	}
}
