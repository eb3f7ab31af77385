package config

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteCheck(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"dmail.conf": strings.Join([]string{
			"imapd_include_level 1", // 1
			"drop_path /var/spool/mail",
			"#include site.conf",
			"hash_spool 9",
			"host_domain example.com", // 5
			"host_domain example.net",
			"pop_port 110",
			"frob 1",
			"use_maildir false",
			"",
		}, "\n"),
		"site.conf": "#include deeper.conf\nimapd_timeout 60\n",
	})
	c, ps, err := Load(filepath.Join(dir, "dmail.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := c.WriteCheck(&out, ps); err != nil {
		t.Fatal(err)
	}
	got := rel(dir, out.String())
	want := []string{
		"# files read:",
		"#   dmail.conf",
		"#   site.conf",
		"# include lines not followed (imapd_include_level):",
		"#   site.conf:1: #include deeper.conf (imapd_include_level 1)",
		"# settings, with the value in effect:",
		"allow_dds false (default)",
		"auth_nocache false (default)",
		"drop_path /var/spool/mail (dmail.conf:2)",
		"hash_spool 0 (default)",
		"host_domain example.com",
		"host_domain example.net",
		"imapd_include_level 1 (dmail.conf:1)",
		"imapd_timeout 60 (site.conf:2)",
		`lock_id "" (default)`,
		"log_path " + filepath.ToSlash(dir) + " (default)",
		"use_maildir false (dmail.conf:9)",
		`valid_users "" (default)`,
		"# settings of the other DMail servers (DPOP, DSMTP, DList), ignored by imapd:",
		"pop_port 110 (dmail.conf:7)",
		"# problems:",
		`dmail.conf:4: error: hash_spool: "9" is not 0, 1 or 2`,
		`dmail.conf:8: warning: unknown setting "frob"`,
		"# 1 error, 1 warning",
	}
	// want is a subsequence of the output lines, in order.
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	i := 0
	for _, l := range lines {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("output lacks %q (or has it out of order):\n%s", want[i], got)
	}
	if lines[len(lines)-1] != "# 1 error, 1 warning" {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
	// Every line is a comment, a setting line "name value...", or a problem.
	for _, l := range lines {
		name, _, _ := strings.Cut(l, " ")
		if strings.HasPrefix(l, "#") || strings.HasPrefix(l, "dmail.conf:") {
			continue
		}
		if _, ok := Lookup(name); !ok && !isOtherServer(name) {
			t.Errorf("unexpected line %q", l)
		}
	}
}

func TestWriteCheckCounts(t *testing.T) {
	c := Defaults()
	c.Files = []string{"dmail.conf"}
	var out bytes.Buffer
	if err := c.WriteCheck(&out, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "\n# 0 errors, 0 warnings\n") || strings.Contains(out.String(), "# problems:") {
		t.Errorf("no problems:\n%s", out.String())
	}
	out.Reset()
	ps := []Problem{{File: "a", Line: 1, Message: "x", Error: true}, {File: "a", Message: "y", Error: true}, {Message: "z"}}
	if err := c.WriteCheck(&out, ps); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "# problems:\na:1: error: x\na: error: y\nwarning: z\n# 2 errors, 1 warning\n") {
		t.Errorf("counts:\n%s", out.String())
	}
	// A Config built without Defaults still prints.
	var zero Config
	out.Reset()
	if err := zero.WriteCheck(&out, nil); err != nil || !strings.Contains(out.String(), "drop_path \"\" (default)") {
		t.Errorf("zero Config: %v\n%s", err, out.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteCheckError(t *testing.T) {
	if err := Defaults().WriteCheck(failWriter{}, nil); err == nil {
		t.Error("write error not returned")
	}
}
