package config

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: the parser never panics, every problem has a location and a
// message, and the typed values stay in their domains.
func FuzzLoad(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "dmail.conf"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	for _, s := range []string{
		"", "\n", "#", "#include", "#include \"\"", "#imapd_include x\n", "imapd_include_level 3\n#include inc.conf\n",
		"imapd_include_level 3\n#include loop.conf\n", "vdomain a b", "user_ip_address ,,,", "user_quota 9999999999999999999",
		"hash_spool 2 2", "DROP_PATH \t \r\n", "\xEF\xBB\xBF#INCLUDE\tinc.conf\r", "a=b", "allow_dds \x00",
		"alt_drop_path X\tY Z", "imapd_timeout 2147483647\nimapd_timeout -0", "\r\r\n\t\v\f",
	} {
		f.Add([]byte(s))
	}
	dir := tempDir(f)
	if err := os.WriteFile(filepath.Join(dir, "inc.conf"), []byte("hash_spool 1\n#include inc.conf\n#imapd_include loop.conf\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "loop.conf"), []byte("#include loop.conf\n#include inc.conf\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	main := filepath.Join(dir, "dmail.conf")
	f.Fuzz(func(t *testing.T, data []byte) {
		c, ps := parse(main, data, nil)
		for _, p := range ps {
			if p.File == "" || p.Message == "" {
				t.Fatalf("problem without location or message: %+v", p)
			}
		}
		if c.HashSpool < 0 || c.HashSpool > 2 {
			t.Fatalf("hash_spool %d", c.HashSpool)
		}
		switch c.LogLevel {
		case "error", "info", "debug":
		default:
			t.Fatalf("log_level %q", c.LogLevel)
		}
		switch c.AuthentMethod {
		case "unix_user", "nt_user", "external":
		default:
			t.Fatalf("authent_method %q", c.AuthentMethod)
		}
		if c.ImapdTimeout < 0 || c.AuthentTimeout <= 0 || c.ImapdIncludeLevel < 0 || c.MaxLogSize < 0 ||
			c.UserQuota.KBytes < 0 || (c.UserQuota.KBytes > 0 && !c.UserQuota.Enabled) {
			t.Fatalf("out of range: %+v", c)
		}
		for _, v := range c.VDomains {
			if v.Domain == "" || v.IP == "" || v.Prefix == "" {
				t.Fatalf("vdomain %+v", v)
			}
		}
		if len(c.Files) == 0 || c.Files[0] != main {
			t.Fatalf("files %q", c.Files)
		}
		if err := c.WriteCheck(io.Discard, ps); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("\n")) && len(ps) > 0 && ps[0].Line > bytes.Count(data, []byte("\n"))+1 && ps[0].File == main {
			t.Fatalf("line %d beyond the end", ps[0].Line)
		}
	})
}

// BenchmarkLoad loads a realistic ~190-line dmail.conf plus one #imapd_include.
func BenchmarkLoad(b *testing.B) {
	path := filepath.Join("testdata", "dmail.conf")
	b.ReportAllocs()
	for b.Loop() {
		_, ps, err := Load(path)
		if err != nil || len(ps) != 0 {
			b.Fatal(err, ps)
		}
	}
}

// BenchmarkParse is BenchmarkLoad without the file system.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "dmail.conf"))
	if err != nil {
		b.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte("#imapd_include"), []byte("# imapd_include"))
	b.ReportAllocs()
	for b.Loop() {
		parse("testdata/dmail.conf", data, nil)
	}
}
