package account

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"imapd/config"
)

// baseConfig is a unix-like default configuration with drop_path dir.
func baseConfig(dir string) *config.Config {
	c := config.Defaults()
	c.DropPath = dir
	c.InvalidChars = "/" // the unix default, on every OS
	c.HostDomain = []string{"main.example"}
	return c
}

func mustResolve(t *testing.T, cfg *config.Config, login, client, local string) *Account {
	t.Helper()
	a, err := Resolve(cfg, login, client, local)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", login, err)
	}
	return a
}

func wantRefused(t *testing.T, cfg *config.Config, login, client, local string) {
	t.Helper()
	a, err := Resolve(cfg, login, client, local)
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("Resolve(%q) = %+v, %v; want *RefusedError", login, a, err)
	}
	if re.Reason == "" {
		t.Fatalf("Resolve(%q): refusal without reason", login)
	}
}

// The manual's example: user "test" with hash_spool 1 reads
// /shared/spool/mail/g/test.
func TestManualHashExample(t *testing.T) {
	cfg := baseConfig("/shared/spool/mail")
	cfg.HashSpool = 1
	a := mustResolve(t, cfg, "test", "10.0.0.24", "")
	if want := filepath.FromSlash("/shared/spool/mail/g/test"); a.DropFile != want {
		t.Fatalf("DropFile = %q, want %q", a.DropFile, want)
	}
	if a.FolderRoot != a.DropFile+".mbx" {
		t.Fatalf("FolderRoot = %q", a.FolderRoot)
	}
	cfg.ImapdEnableNewHashing = false
	if a := mustResolve(t, cfg, "test", "", ""); a.DropFile != filepath.FromSlash("/shared/spool/mail/g/test") {
		t.Fatalf("old hashing DropFile = %q", a.DropFile)
	}
}

func TestHashDirsTable(t *testing.T) {
	cases := []struct {
		name    string
		level   int
		newHash bool
		want    []string
	}{
		{"test", 0, true, nil},
		{"test", 1, true, []string{"g"}},
		{"test", 2, true, []string{"g", "e"}},
		{"test", 2, false, []string{"g", "e"}},
		{"test", 3, true, []string{"g", "e"}},
		{"test", -1, true, nil},
		// Upper case: new hashing hashes the lower-cased name (4.4.3z).
		{"TEST", 2, true, []string{"g", "e"}},
		{"Test", 2, true, []string{"g", "e"}},
		{"Test", 2, false, []string{"a", "e"}},   // 84+101+115+116 = 416, 416 mod 26 = 0
		{"TEST", 2, false, []string{"i", "E"}},   // 84+69+83+84 = 320, mod 26 = 8
		{"j.smith", 2, true, []string{"z", "s"}}, // 701 mod 26 = 25
		{"j.smith", 2, false, []string{"z", "."}},
		{"a", 2, true, []string{"t", "0"}}, // 97 mod 26 = 19; no second byte
		{"a", 2, false, []string{"t", "a"}},
		{"x.-_", 2, true, []string{"u", "0"}}, // 306 mod 26 = 20; no alphanumeric after the first byte
	}
	for _, c := range cases {
		cfg := &config.Config{HashSpool: c.level, ImapdEnableNewHashing: c.newHash}
		got := HashDirs(cfg, c.name)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("HashDirs(%q, spool %d, new %v) = %q, want %q", c.name, c.level, c.newHash, got, c.want)
		}
	}
}

// With new hashing no hash directory is ever ".", ".." or a non-alphanumeric
// byte, whatever the name.
func TestNewHashingDirsAlwaysAlnum(t *testing.T) {
	cfg := &config.Config{HashSpool: 2, ImapdEnableNewHashing: true}
	names := []string{"j.smith", "a.", "..", ".x", "a%2Fb", "é", "A", "Z.Y", "_", "a-b", "\xff\xfe", "0", "x.."}
	for b := 1; b < 256; b++ {
		names = append(names, "a"+string([]byte{byte(b)}), string([]byte{byte(b)}))
	}
	for _, n := range names {
		dirs := HashDirs(cfg, n)
		if len(dirs) != 2 {
			t.Fatalf("HashDirs(%q) = %q", n, dirs)
		}
		for _, d := range dirs {
			if len(d) != 1 || !(d[0] >= 'a' && d[0] <= 'z' || d[0] >= '0' && d[0] <= '9') {
				t.Errorf("HashDirs(%q) = %q: %q is not one lower-case letter or digit", n, dirs, d)
			}
		}
	}
}

func TestHashSpool2DropFile(t *testing.T) {
	dir := fakeDir(t)
	cfg := baseConfig(dir)
	cfg.HashSpool = 2
	a := mustResolve(t, cfg, "j.smith", "", "")
	if want := filepath.Join(dir, "z", "s", "j.smith"); a.DropFile != want {
		t.Fatalf("new hashing: %q, want %q", a.DropFile, want)
	}
	cfg.ImapdEnableNewHashing = false
	a = mustResolve(t, cfg, "j.smith", "", "")
	// The old rule's "." directory collapses: the file sits in the level-1 directory.
	if want := filepath.Join(dir, "z", "j.smith"); a.DropFile != want {
		t.Fatalf("old hashing: %q, want %q", a.DropFile, want)
	}
}

func TestEncodeName(t *testing.T) {
	cases := []struct{ in, invalid, want string }{
		{"bob", "/", "bob"},
		{"a/b", "/", "a%2Fb"},
		{"a%b", "/", "a%25b"},
		{"a%2Fb", "/", "a%252Fb"}, // never the same file as "a/b"
		{`a\b:c*d?e"f<g>h|i`, `\/:*?"<>|`, "a%5Cb%3Ac%2Ad%3Fe%22f%3Cg%3Eh%7Ci"},
		{"tab\tx", "", "tab%09x"},
		{"del\x7f", "", "del%7F"},
		{"jörg", "/", "jörg"},
		{"", "/", ""},
	}
	for _, c := range cases {
		if got := EncodeName(c.in, c.invalid); got != c.want {
			t.Errorf("EncodeName(%q, %q) = %q, want %q", c.in, c.invalid, got, c.want)
		}
	}
}

func TestSlashEncodedWhenInvalidChar(t *testing.T) {
	dir := fakeDir(t)
	cfg := baseConfig(dir)
	a := mustResolve(t, cfg, "a/b", "", "")
	if a.FileName != "a%2Fb" || a.DropFile != filepath.Join(dir, "a%2Fb") {
		t.Fatalf("got FileName %q DropFile %q", a.FileName, a.DropFile)
	}
	if a.User != "a/b" || a.AuthName != "a/b" {
		t.Fatalf("User %q AuthName %q", a.User, a.AuthName)
	}
	// Not listed in invalid_chars: refused.
	cfg.InvalidChars = ""
	wantRefused(t, cfg, "a/b", "", "")
	wantRefused(t, cfg, `a\b`, "", "")
}

func TestRefusedNames(t *testing.T) {
	dir := fakeDir(t)
	cfg := baseConfig(dir)
	for _, login := range []string{
		"", "..", ".", "a..b", "../etc/passwd", "..%2F", `a\b`, "nul\x00x", "ctl\x01", "tab\tx",
		"sp ace", "cr\rx", "lf\nx", "del\x7f", strings.Repeat("x", 256), "@main.example",
	} {
		wantRefused(t, cfg, login, "", "")
	}
	// 255 bytes is fine, but "%" encoding may push the file name over the limit.
	mustResolve(t, cfg, strings.Repeat("x", 255), "", "")
	wantRefused(t, cfg, strings.Repeat("%", 100), "", "")
}

func TestAllowDDSStaysInsideDropPath(t *testing.T) {
	dir := fakeDir(t)
	cfg := baseConfig(dir)
	cfg.AllowDDS = true
	// ".." inside a name is allowed, but a name that is ".." would be the parent.
	a := mustResolve(t, cfg, "a..b", "", "")
	if a.DropFile != filepath.Join(dir, "a..b") {
		t.Fatalf("DropFile %q", a.DropFile)
	}
	a = mustResolve(t, cfg, "../etc/passwd", "", "")
	if a.DropFile != filepath.Join(dir, "..%2Fetc%2Fpasswd") {
		t.Fatalf("DropFile %q", a.DropFile)
	}
	wantRefused(t, cfg, "..", "", "")
	wantRefused(t, cfg, ".", "", "")
	cfg.HashSpool = 2
	cfg.ImapdEnableNewHashing = false
	// Old hashing would make "." and ".." hash directories; still inside.
	for _, n := range []string{"..", ".", "a.", "x..", "..x"} {
		a, err := Resolve(cfg, n, "", "")
		if err != nil {
			continue
		}
		rel, rerr := filepath.Rel(dir, a.DropFile)
		if rerr != nil || !filepath.IsLocal(rel) {
			t.Errorf("%q -> %q leaves %q", n, a.DropFile, dir)
		}
	}
}

func TestStripDomain(t *testing.T) {
	dir := fakeDir(t)
	cfg := baseConfig(dir)
	cfg.ImapdStripDomain = []string{"test.com", "@other.org", "x.test.com"}
	cases := map[string]string{
		"bob@test.com":   "bob",
		"bob@TEST.COM":   "bob",
		"bobtest.com":    "bob",
		"bob@other.org":  "bob",
		"bob@x.test.com": "bob", // longest suffix first
		"bob":            "bob",
		"test.com":       "test.com", // nothing left: not stripped
	}
	for login, want := range cases {
		if a := mustResolve(t, cfg, login, "", ""); a.User != want {
			t.Errorf("%q -> User %q, want %q", login, a.User, want)
		}
	}
}

func TestLowercaseUsername(t *testing.T) {
	dir := fakeDir(t)
	cfg := baseConfig(dir)
	cfg.HashSpool = 1
	a := mustResolve(t, cfg, "Bob", "", "")
	if a.User != "Bob" || a.FileName != "Bob" {
		t.Fatalf("without lowercase_username: %+v", a)
	}
	cfg.LowercaseUsername = true
	a = mustResolve(t, cfg, "BoB@Main.Example", "", "")
	if a.User != "bob" || a.Domain != "" || a.DropFile != filepath.Join(dir, HashDirs(cfg, "bob")[0], "bob") {
		t.Fatalf("with lowercase_username: %+v", a)
	}
}

func TestValidUsers(t *testing.T) {
	dir := fakeDir(t)
	cfg := baseConfig(dir)
	cfg.ValidUsers = []string{"alice", "staff*", "*-admin", "a*z", "carol@vd.example"}
	cfg.VDomains = []config.VDomain{{Domain: "vd.example", IP: "*", Prefix: "vd"}}
	for _, ok := range []string{"alice", "ALICE", "staff", "staff1", "web-admin", "az", "abcz", "carol@vd.example"} {
		mustResolve(t, cfg, ok, "", "")
	}
	for _, bad := range []string{"bob", "xstaff", "admin", "abzc", "carol", "alice2"} {
		wantRefused(t, cfg, bad, "", "")
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		p, s string
		fold bool
		want bool
	}{
		{"1.2.3.*", "1.2.3.4", false, true},
		{"1.2.3.*", "1.2.30.4", false, false},
		{"*", "", false, true},
		{"", "", false, true},
		{"", "a", false, false},
		{"a*b*c", "aXXbYYc", false, true},
		{"a*b*c", "aXXbYY", false, false},
		{"*.example", "x.example", false, true},
		{"AB", "ab", false, false},
		{"AB", "ab", true, true},
		{"a**", "abc", false, true},
		{"*a*a*a*a*b", strings.Repeat("a", 40), false, false},
	}
	for _, c := range cases {
		if got := Match(c.p, c.s, c.fold); got != c.want {
			t.Errorf("Match(%q, %q, %v) = %v", c.p, c.s, c.fold, got)
		}
	}
}

func TestUserIPAddress(t *testing.T) {
	dir := fakeDir(t)
	cfg := baseConfig(dir)
	cfg.UserIPAddress = []string{"10.1.*,192.0.2.7", "127.0.0.1", "2001:db8::*"}
	for _, ip := range []string{"10.1.2.3", "192.0.2.7", "127.0.0.1", "::ffff:127.0.0.1", "2001:db8::5"} {
		mustResolve(t, cfg, "bob", ip, "")
	}
	for _, ip := range []string{"10.2.0.1", "192.0.2.70", "", "junk"} {
		wantRefused(t, cfg, "bob", ip, "")
	}
}

func TestVDomainByName(t *testing.T) {
	dir := fakeDir(t)
	cfg := baseConfig(dir)
	cfg.HashSpool = 1
	cfg.VDomains = []config.VDomain{
		{Domain: "vd.example", IP: "*", Prefix: "vd", Line: "dmail.conf:3"},
		{Domain: "ip.example", IP: "192.0.2.10", Prefix: "ipd", Line: "dmail.conf:4"},
	}
	a := mustResolve(t, cfg, "bob@VD.example", "", "")
	want := &Account{
		Login:    "bob@VD.example",
		User:     "bob",
		Domain:   "vd.example",
		AuthName: "vd.bob",
		FileName: "vd.bob",
	}
	want.DropFile = filepath.Join(dir, HashDirs(cfg, "vd.bob")[0], "vd.bob")
	want.FolderRoot = want.DropFile + ".mbx"
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("got %+v\nwant %+v", a, want)
	}

	// Separator setting.
	cfg.VDomainSeparator = "_"
	if a := mustResolve(t, cfg, "bob@vd.example", "", ""); a.FileName != "vd_bob" || a.AuthName != "vd_bob" {
		t.Fatalf("separator _: %+v", a)
	}
	cfg.VDomainSeparator = "."

	// Main domain by name.
	a = mustResolve(t, cfg, "bob@main.example", "", "")
	if a.Domain != "" || a.User != "bob" || a.FileName != "bob" {
		t.Fatalf("main domain: %+v", a)
	}
	// Unknown domain: the whole login is the name.
	a = mustResolve(t, cfg, "bob@elsewhere.example", "", "")
	if a.Domain != "" || a.User != "bob@elsewhere.example" || a.FileName != "bob@elsewhere.example" {
		t.Fatalf("unknown domain: %+v", a)
	}
}

func TestVDomainByLocalIP(t *testing.T) {
	dir := fakeDir(t)
	cfg := baseConfig(dir)
	cfg.VDomains = []config.VDomain{
		{Domain: "any.example", IP: "*", Prefix: "any"},
		{Domain: "ip.example", IP: "192.0.2.10", Prefix: "ipd"},
	}
	a := mustResolve(t, cfg, "bob", "198.51.100.1", "192.0.2.10")
	if a.Domain != "ip.example" || a.FileName != "ipd.bob" || a.DropFile != filepath.Join(dir, "ipd.bob") {
		t.Fatalf("by IP: %+v", a)
	}
	a = mustResolve(t, cfg, "bob", "198.51.100.1", "::ffff:192.0.2.10")
	if a.Domain != "ip.example" {
		t.Fatalf("by mapped IP: %+v", a)
	}
	// Another address: main domain; "*" never matches by address.
	a = mustResolve(t, cfg, "bob", "198.51.100.1", "192.0.2.11")
	if a.Domain != "" || a.FileName != "bob" {
		t.Fatalf("other IP: %+v", a)
	}
	// A named local domain wins over the address, the main domain too.
	a = mustResolve(t, cfg, "bob@any.example", "", "192.0.2.10")
	if a.Domain != "any.example" {
		t.Fatalf("name over IP: %+v", a)
	}
	a = mustResolve(t, cfg, "bob@main.example", "", "192.0.2.10")
	if a.Domain != "" || a.FileName != "bob" {
		t.Fatalf("main domain over IP: %+v", a)
	}
	// A domain that is not local is part of the name; the address decides.
	a = mustResolve(t, cfg, "bob@elsewhere.example", "", "192.0.2.10")
	if a.Domain != "ip.example" || a.User != "bob@elsewhere.example" || a.FileName != "ipd.bob@elsewhere.example" {
		t.Fatalf("foreign domain by IP: %+v", a)
	}
}

func TestDropPrefixAndAltDropPath(t *testing.T) {
	dir := fakeDir(t)
	alt := fakeDir(t)
	cfg := baseConfig(dir)
	cfg.HashSpool = 1
	cfg.DropPrefix = true
	cfg.VDomains = []config.VDomain{
		{Domain: "vd.example", IP: "*", Prefix: "vd"},
		{Domain: "alt.example", IP: "*", Prefix: "al"},
	}
	cfg.AltDropPath = map[string]string{"ALT.example": alt}
	a := mustResolve(t, cfg, "bob@vd.example", "", "")
	if want := filepath.Join(dir, "vd", HashDirs(cfg, "bob")[0], "bob"); a.DropFile != want || a.FileName != "bob" {
		t.Fatalf("drop_prefix: %+v, want %q", a, want)
	}
	a = mustResolve(t, cfg, "bob@alt.example", "", "")
	if want := filepath.Join(alt, "al", HashDirs(cfg, "bob")[0], "bob"); a.DropFile != want {
		t.Fatalf("alt_drop_path: %q, want %q", a.DropFile, want)
	}
	cfg.DropPrefix = false
	a = mustResolve(t, cfg, "bob@alt.example", "", "")
	if want := filepath.Join(alt, HashDirs(cfg, "al.bob")[0], "al.bob"); a.DropFile != want {
		t.Fatalf("alt_drop_path without drop_prefix: %q, want %q", a.DropFile, want)
	}
	// Main-domain users ignore alt_drop_path.
	if a := mustResolve(t, cfg, "bob", "", ""); !strings.HasPrefix(a.DropFile, dir) {
		t.Fatalf("main domain: %q", a.DropFile)
	}
}

func TestBadVDomainPrefix(t *testing.T) {
	cfg := baseConfig(fakeDir(t))
	cfg.InvalidChars = ""
	cfg.VDomains = []config.VDomain{{Domain: "bad.example", IP: "*", Prefix: "..", Line: "dmail.conf:9"}}
	cfg.DropPrefix = true
	_, err := Resolve(cfg, "bob@bad.example", "", "")
	var re *RefusedError
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "dmail.conf:9") {
		t.Fatalf("want a configuration error naming the line, got %v", err)
	}
}

func TestAuthName(t *testing.T) {
	cfg := baseConfig(fakeDir(t))
	cfg.VDomains = []config.VDomain{
		{Domain: "vd.example", IP: "*", Prefix: "vd"},
		{Domain: "own.example", IP: "*", Prefix: "own"},
		{Domain: "nopfx.example", IP: "*", Prefix: ""},
	}
	cfg.VDomainPasswd = map[string]string{"own.example": "/etc/own.passwd"}
	cases := []struct {
		login      string
		domain     bool
		want, file string
	}{
		{"bob", false, "bob", "bob"},
		{"bob@vd.example", false, "vd.bob", "vd.bob"},
		{"bob@own.example", false, "bob@own.example", "own.bob"},
		{"bob@nopfx.example", false, "bob", "bob"},
		{"bob", true, "bob@main.example", "bob"},
		{"bob@main.example", true, "bob@main.example", "bob"},
		{"bob@vd.example", true, "bob@vd.example", "vd.bob"},
	}
	for _, c := range cases {
		cfg.AuthentDomain = c.domain
		a := mustResolve(t, cfg, c.login, "", "")
		if a.AuthName != c.want || a.FileName != c.file {
			t.Errorf("%q (authent_domain %v): AuthName %q FileName %q, want %q %q", c.login, c.domain, a.AuthName, a.FileName, c.want, c.file)
		}
	}
	cfg.AuthentDomain = true
	cfg.HostDomain = nil
	if a := mustResolve(t, cfg, "bob", "", ""); a.AuthName != "bob" {
		t.Errorf("no host_domain: AuthName %q", a.AuthName)
	}
}

func TestUseDropFile(t *testing.T) {
	cfg := baseConfig(fakeDir(t))
	a := mustResolve(t, cfg, "bob", "", "")
	p := filepath.Join(fakeDir(t), "spool", "bob2")
	a.UseDropFile(p)
	if a.DropFile != p || a.FolderRoot != p+".mbx" || a.FileName != "bob2" {
		t.Fatalf("%+v", a)
	}
	a.UseDropFile("")
	if a.DropFile != p {
		t.Fatalf("empty path changed the account: %+v", a)
	}
}

func TestMissingDropPath(t *testing.T) {
	cfg := baseConfig("")
	_, err := Resolve(cfg, "bob", "", "")
	var re *RefusedError
	if err == nil || errors.As(err, &re) {
		t.Fatalf("want configuration error, got %v", err)
	}
	if _, err := Resolve(nil, "bob", "", ""); err == nil {
		t.Fatal("nil config accepted")
	}
}

// fakeDir names a directory for a test: Resolve never touches the file
// system, so it need not exist.
func fakeDir(t *testing.T) string {
	return filepath.Join(string(filepath.Separator)+"spool", t.Name())
}
