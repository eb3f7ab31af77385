package config

import (
	"bytes"
	"imapd/internal/testdir"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeFiles creates files (name -> content, '/' separated names) in a new
// temporary directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := tempDir(t)
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tempDir is a temporary directory that is cleaned up under Wine too.
var tempDir = testdir.New

// load loads dir/dmail.conf and returns the problems as
// "<file relative to dir, slash separated>:line: error|warning: message".
func load(t *testing.T, dir string) (*Config, []string) {
	t.Helper()
	c, ps, err := Load(filepath.Join(dir, "dmail.conf"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c, fmtProblems(dir, ps)
}

func fmtProblems(dir string, ps []Problem) []string {
	out := []string{}
	for _, p := range ps {
		sev := "warning: "
		if p.Error {
			sev = "error: "
		}
		out = append(out, rel(dir, p.location())+sev+rel(dir, p.Message))
	}
	return out
}

// rel removes dir from paths in s and makes separators '/'.
func rel(dir, s string) string {
	s = strings.ReplaceAll(s, dir+string(filepath.Separator), "")
	return filepath.ToSlash(s)
}

// loadString loads content as dmail.conf. A "drop_path /spool" line is added
// at the end unless content sets drop_path, so that the compulsory check
// stays quiet.
func loadString(t *testing.T, content string) (*Config, []string) {
	t.Helper()
	setsDropPath := false
	for _, ln := range strings.Split(content, "\n") {
		if f := strings.Fields(ln); len(f) > 0 && strings.EqualFold(f[0], "drop_path") {
			setsDropPath = true
		}
	}
	if !setsDropPath {
		content += "\ndrop_path /spool\n"
	}
	return load(t, writeFiles(t, map[string]string{"dmail.conf": content}))
}

func TestDefaults(t *testing.T) {
	c := Defaults()
	method, invalid := "unix_user", "/"
	if runtime.GOOS == "windows" {
		method, invalid = "nt_user", `\/:*?"<>|`
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"authent_method", c.AuthentMethod, method},
		{"invalid_chars", c.InvalidChars, invalid},
		{"authent_timeout", c.AuthentTimeout, 10 * time.Second},
		{"authent_number", c.AuthentNumber, 2},
		{"authent_cache", c.AuthentCache, 1000},
		{"auth_nocache", c.AuthNoCache, false},
		{"authent_domain", c.AuthentDomain, false},
		{"imapd_become_user", c.ImapdBecomeUser, true},
		{"imapd_shared_mailboxes", c.ImapdSharedMailboxes, false},
		{"vdomain_separator", c.VDomainSeparator, "."},
		{"imapd_enable_new_hashing", c.ImapdEnableNewHashing, true},
		{"use_flock", c.UseFlock, true},
		{"maildir_suffix", c.MaildirSuffix, true},
		{"use_maildir", c.UseMaildir, false},
		{"imapd_timeout", c.ImapdTimeout, 1800 * time.Second},
		{"imapd_include_level", c.ImapdIncludeLevel, 0},
		{"bulletin_from", c.BulletinFrom, "Email System Administrator"},
		{"forward_window", c.ForwardWindow, 900 * time.Second},
		{"log_level", c.LogLevel, "info"},
		{"max_log_size", c.MaxLogSize, int64(0)},
		{"hash_spool", c.HashSpool, 0},
		{"user_quota", c.UserQuota, Quota{}},
		{"drop_path", c.DropPath, ""},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s default = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

// TestLoadDerivedDefaults covers log_path, which Load derives.
func TestLoadDerivedDefaults(t *testing.T) {
	dir := writeFiles(t, map[string]string{"dmail.conf": "drop_path /spool\n"})
	c, ps := load(t, dir)
	if len(ps) != 0 {
		t.Fatalf("problems: %q", ps)
	}
	if c.LogPath != dir {
		t.Errorf("log_path = %q, want the config directory %q", c.LogPath, dir)
	}
	if c.Where("log_path") != "" {
		t.Errorf("log_path should count as default, Where = %q", c.Where("log_path"))
	}
	c, _ = loadString(t, "work_path /dmail\n")
	if c.LogPath != "/dmail" {
		t.Errorf("log_path = %q, want work_path", c.LogPath)
	}
	c, _ = loadString(t, "log_path /logs\nwork_path /dmail\n")
	if c.LogPath != "/logs" {
		t.Errorf("log_path = %q, want /logs", c.LogPath)
	}
}

func TestValues(t *testing.T) {
	tests := []struct {
		name  string
		conf  string
		check func(c *Config) bool
		probs []string
	}{
		// booleans
		{"bool true", "authent_domain true", func(c *Config) bool { return c.AuthentDomain }, nil},
		{"bool case", "Authent_Domain TRUE", func(c *Config) bool { return c.AuthentDomain }, nil},
		{"bool false", "use_flock false", func(c *Config) bool { return !c.UseFlock }, nil},
		{"bool yes", "lowercase_username yes", func(c *Config) bool { return c.LowercaseUsername },
			[]string{`dmail.conf:1: warning: lowercase_username: "yes" taken as true (dmail.conf booleans are true or false)`}},
		{"bool 0", "imapd_become_user 0", func(c *Config) bool { return !c.ImapdBecomeUser },
			[]string{`dmail.conf:1: warning: imapd_become_user: "0" taken as false (dmail.conf booleans are true or false)`}},
		{"bool off", "maildir_suffix Off", func(c *Config) bool { return !c.MaildirSuffix },
			[]string{`dmail.conf:1: warning: maildir_suffix: "Off" taken as false (dmail.conf booleans are true or false)`}},
		{"bool invalid", "imapd_become_user maybe", func(c *Config) bool { return c.ImapdBecomeUser },
			[]string{`dmail.conf:1: error: imapd_become_user: "maybe" is not true or false`}},
		{"bool extra", "drop_prefix true # yes", func(c *Config) bool { return c.DropPrefix },
			[]string{`dmail.conf:1: warning: drop_prefix: extra text after the value ignored: "# yes"`}},
		{"missing value", "allow_dds", func(c *Config) bool { return !c.AllowDDS },
			[]string{`dmail.conf:1: error: allow_dds: missing value`}},
		{"missing value blanks", "allow_dds  \t ", func(c *Config) bool { return !c.AllowDDS },
			[]string{`dmail.conf:1: error: allow_dds: missing value`}},

		// strings
		{"text with spaces", `drop_path C:\Program Files\dmail\spool`,
			func(c *Config) bool { return c.DropPath == `C:\Program Files\dmail\spool` }, nil},
		{"text keeps quotes", `bulletin_from "Mail Admin"`,
			func(c *Config) bool { return c.BulletinFrom == `"Mail Admin"` }, nil},
		{"text trailing comment", "drop_path /var/mail # the spool",
			func(c *Config) bool { return c.DropPath == "/var/mail # the spool" },
			[]string{`dmail.conf:1: warning: drop_path: the value "/var/mail # the spool" contains " #": dmail.conf has no trailing comments, so it is part of the value`}},
		{"text hash inside word", "authent_process /bin/auth#1",
			func(c *Config) bool { return c.AuthentProcess == "/bin/auth#1" }, nil},
		{"command line", "authent_process /usr/local/dmail/nwauth -path /etc/auth",
			func(c *Config) bool { return c.AuthentProcess == "/usr/local/dmail/nwauth -path /etc/auth" }, nil},
		{"word", "vdomain_separator +", func(c *Config) bool { return c.VDomainSeparator == "+" }, nil},
		{"word extra", "lock_id node1 node2", func(c *Config) bool { return c.LockID == "node1" },
			[]string{`dmail.conf:1: warning: lock_id: extra text after the value ignored: "node2"`}},
		{"invalid_chars", `invalid_chars \/:*?"<>|`, func(c *Config) bool { return c.InvalidChars == `\/:*?"<>|` }, nil},
		{"mailbox name dot", "imapd_mailbox_name .", func(c *Config) bool { return c.ImapdMailboxName == "." }, nil},
		{"special use", "imapd_special_use \\sent Sent Items\nimapd_special_use \\Trash Bin",
			func(c *Config) bool {
				return slices.Equal(c.ImapdSpecialUse, []SpecialUse{{`\Sent`, "Sent Items"}, {`\Trash`, "Bin"}})
			}, nil},
		{"special use invalid", "imapd_special_use \\All Everything", func(c *Config) bool { return c.ImapdSpecialUse == nil },
			[]string{`dmail.conf:1: error: imapd_special_use: "\All" is not a special use (one of \Archive \Drafts \Junk \Sent \Trash)`}},
		{"special use no folder", "imapd_special_use \\Sent", func(c *Config) bool { return c.ImapdSpecialUse == nil },
			[]string{`dmail.conf:1: error: imapd_special_use: no folder name after \Sent`}},

		// enums
		{"authent_method case", "authent_method External\nauthent_process /bin/auth",
			func(c *Config) bool { return c.AuthentMethod == "external" }, nil},
		{"authent_method invalid", "authent_method kerberos",
			func(c *Config) bool { return c.AuthentMethod == Defaults().AuthentMethod },
			[]string{`dmail.conf:1: error: authent_method: "kerberos" is not unix_user, nt_user or external`}},
		{"log_level", "log_level DEBUG", func(c *Config) bool { return c.LogLevel == "debug" }, nil},
		{"log_level invalid", "log_level verbose", func(c *Config) bool { return c.LogLevel == "info" },
			[]string{`dmail.conf:1: error: log_level: "verbose" is not error, info or debug`}},
		{"hash_spool", "hash_spool 2", func(c *Config) bool { return c.HashSpool == 2 }, nil},
		{"hash_spool invalid", "hash_spool 3", func(c *Config) bool { return c.HashSpool == 0 },
			[]string{`dmail.conf:1: error: hash_spool: "3" is not 0, 1 or 2`}},
		{"hash_spool two digits", "hash_spool 01", func(c *Config) bool { return c.HashSpool == 0 },
			[]string{`dmail.conf:1: error: hash_spool: "01" is not 0, 1 or 2`}},

		// numbers
		{"int", "imapd_include_level 3", func(c *Config) bool { return c.ImapdIncludeLevel == 3 }, nil},
		{"int negative", "imapd_include_level -1", func(c *Config) bool { return c.ImapdIncludeLevel == 0 },
			[]string{`dmail.conf:1: error: imapd_include_level: "-1" is less than 0`}},
		{"int not a number", "authent_cache lots", func(c *Config) bool { return c.AuthentCache == 1000 },
			[]string{`dmail.conf:1: error: authent_cache: "lots" is not a whole number`}},
		{"int overflow", "authent_cache 99999999999999999999", func(c *Config) bool { return c.AuthentCache == 1000 },
			[]string{`dmail.conf:1: error: authent_cache: "99999999999999999999" is too large`}},
		{"int above max", "authent_number 4294967296", func(c *Config) bool { return c.AuthentNumber == 2 },
			[]string{`dmail.conf:1: error: authent_number: "4294967296" is too large (at most 2147483647)`}},
		{"authent_number min", "authent_number 0", func(c *Config) bool { return c.AuthentNumber == 2 },
			[]string{`dmail.conf:1: error: authent_number: "0" is less than 1`}},
		{"int64", "max_log_size 10000000", func(c *Config) bool { return c.MaxLogSize == 10000000 }, nil},
		{"seconds", "imapd_timeout 86400", func(c *Config) bool { return c.ImapdTimeout == 24*time.Hour }, nil},
		{"seconds zero", "imapd_timeout 0", func(c *Config) bool { return c.ImapdTimeout == 0 }, nil},
		{"seconds float", "forward_window 1.5", func(c *Config) bool { return c.ForwardWindow == 900*time.Second },
			[]string{`dmail.conf:1: error: forward_window: "1.5" is not a whole number`}},
		{"authent_timeout zero", "authent_timeout 0", func(c *Config) bool { return c.AuthentTimeout == 10*time.Second },
			[]string{`dmail.conf:1: error: authent_timeout: "0" is less than 1`}},
		{"seconds huge", "imapd_timeout 2147483648", func(c *Config) bool { return c.ImapdTimeout == 1800*time.Second },
			[]string{`dmail.conf:1: error: imapd_timeout: "2147483648" is too large (at most 2147483647)`}},

		// user_quota
		{"quota false", "user_quota false", func(c *Config) bool { return c.UserQuota == Quota{} }, nil},
		{"quota true", "user_quota TRUE", func(c *Config) bool { return c.UserQuota == Quota{Enabled: true} }, nil},
		{"quota kbytes", "user_quota 5000", func(c *Config) bool { return c.UserQuota == Quota{Enabled: true, KBytes: 5000} }, nil},
		{"quota zero", "user_quota 0", func(c *Config) bool { return c.UserQuota == Quota{} }, nil},
		{"quota negative", "user_quota -5", func(c *Config) bool { return c.UserQuota == Quota{} },
			[]string{`dmail.conf:1: error: user_quota: "-5" is not true, false or a number of kbytes`}},
		{"quota word", "user_quota lots", func(c *Config) bool { return c.UserQuota == Quota{} },
			[]string{`dmail.conf:1: error: user_quota: "lots" is not true, false or a number of kbytes`}},
		{"quota 5M", "user_quota 5M", func(c *Config) bool { return c.UserQuota == Quota{} },
			[]string{`dmail.conf:1: error: user_quota: "5M" is not true, false or a number of kbytes`}},

		// bulletin_path
		{"bulletin_path", "bulletin_path /var/dmail/bulletins", func(c *Config) bool { return c.BulletinPath == "/var/dmail/bulletins" }, nil},
		{"bulletin_path relative", "bulletin_path bulletins", func(c *Config) bool { return c.BulletinPath == "" },
			[]string{`dmail.conf:1: error: bulletin_path: "bulletins" is not an absolute path`}},

		// dpop_host
		{"dpop_host ip", "dpop_host 10.0.0.5", func(c *Config) bool { return c.DpopHost == "10.0.0.5" }, nil},
		{"dpop_host ipv6", "dpop_host ::1", func(c *Config) bool { return c.DpopHost == "::1" }, nil},
		{"dpop_host name", "dpop_host mail-1.example.org", func(c *Config) bool { return c.DpopHost == "mail-1.example.org" }, nil},
		{"dpop_host port", "dpop_host 10.0.0.5:143", func(c *Config) bool { return c.DpopHost == "" },
			[]string{`dmail.conf:1: error: dpop_host: "10.0.0.5:143" is not an IP address or host name`}},
		{"dpop_host junk", "dpop_host mail_host!", func(c *Config) bool { return c.DpopHost == "" },
			[]string{`dmail.conf:1: error: dpop_host: "mail_host!" is not an IP address or host name`}},

		// vdomain
		{"vdomain", "vdomain Shop.Example.ORG 10.0.0.21 shop\nvdomain news.example.org * news extra fields",
			func(c *Config) bool {
				return len(c.VDomains) == 2 &&
					c.VDomains[0].Domain == "shop.example.org" && c.VDomains[0].IP == "10.0.0.21" && c.VDomains[0].Prefix == "shop" &&
					strings.HasSuffix(c.VDomains[0].Line, "dmail.conf:1") &&
					c.VDomains[1].IP == "*" && c.VDomains[1].Prefix == "news" && strings.HasSuffix(c.VDomains[1].Line, "dmail.conf:2")
			}, nil},
		{"vdomain ipv6", "vdomain a.example ::1 a", func(c *Config) bool { return len(c.VDomains) == 1 }, nil},
		{"vdomain short", "vdomain shop.example.org 10.0.0.21", func(c *Config) bool { return len(c.VDomains) == 0 },
			[]string{`dmail.conf:1: error: vdomain: needs <domain> <ip|*> <prefix> [...]`}},
		{"vdomain bad ip", "vdomain a.example host.example a", func(c *Config) bool { return len(c.VDomains) == 1 },
			[]string{`dmail.conf:1: warning: vdomain: "host.example" is neither an IP address nor *`}},
		{"vdomain duplicate", "vdomain a.example * a\nvdomain A.example * b", func(c *Config) bool { return len(c.VDomains) == 2 },
			[]string{`dmail.conf:2: warning: vdomain: a.example is already defined at dmail.conf:1`}},

		// domain -> path maps
		{"alt_drop_path", "alt_drop_path Club.Example /var/spool/club\nalt_drop_path b.example C:\\spool b",
			func(c *Config) bool {
				return reflect.DeepEqual(c.AltDropPath, map[string]string{"club.example": "/var/spool/club", "b.example": `C:\spool b`})
			}, nil},
		{"alt_drop_path missing path", "alt_drop_path club.example", func(c *Config) bool { return c.AltDropPath == nil },
			[]string{`dmail.conf:1: error: alt_drop_path: needs <domain> <directory>`}},
		{"vdomain_passwd duplicate", "vdomain_passwd a.example /etc/p1\nvdomain_passwd a.example /etc/p2",
			func(c *Config) bool { return c.VDomainPasswd["a.example"] == "/etc/p2" },
			[]string{`dmail.conf:2: warning: vdomain_passwd: a.example given again; this line replaces the earlier one`}},
		{"maildir_althome", "maildir_althome v.example /shared/maildir/v",
			func(c *Config) bool { return c.MaildirAltHome["v.example"] == "/shared/maildir/v" }, nil},

		// repeatable lists
		{"host_domain", "host_domain Mail.Example.com\nhost_domain example.com",
			func(c *Config) bool { return slices.Equal(c.HostDomain, []string{"mail.example.com", "example.com"}) }, nil},
		{"valid_users", "valid_users bob\nvalid_users ann*",
			func(c *Config) bool { return slices.Equal(c.ValidUsers, []string{"bob", "ann*"}) }, nil},
		{"imapd_strip_domain", "imapd_strip_domain test.com\nimapd_strip_domain @Other.com",
			func(c *Config) bool { return slices.Equal(c.ImapdStripDomain, []string{"test.com", "@Other.com"}) }, nil},
		{"user_ip_address lists", "user_ip_address 10.0.*,192.168.1.*\nuser_ip_address 172.16.*\nuser_ip_address 10.1.1.1, 10.1.1.2,,::1",
			func(c *Config) bool {
				return slices.Equal(c.UserIPAddress, []string{"10.0.*", "192.168.1.*", "172.16.*", "10.1.1.1", "10.1.1.2", "::1"})
			}, nil},
		{"user_ip_address not ip", "user_ip_address host.example.com",
			func(c *Config) bool { return slices.Equal(c.UserIPAddress, []string{"host.example.com"}) },
			[]string{`dmail.conf:1: warning: user_ip_address: "host.example.com" does not look like an IP address pattern`}},

		// once-only settings
		{"set twice", "hash_spool 1\nhash_spool 2", func(c *Config) bool { return c.HashSpool == 2 },
			[]string{`dmail.conf:2: warning: hash_spool set again; this line replaces the value from dmail.conf:1`}},
		{"invalid keeps earlier", "hash_spool 1\nhash_spool 9", func(c *Config) bool { return c.HashSpool == 1 },
			[]string{`dmail.conf:2: error: hash_spool: "9" is not 0, 1 or 2`}},

		// names
		{"unknown", "frobnicate 12", nil, []string{`dmail.conf:1: warning: unknown setting "frobnicate"`}},
		{"unknown name=value", "drop_path=/var/mail\ndrop_path /x", nil,
			[]string{`dmail.conf:1: warning: unknown setting "drop_path=/var/mail" (dmail.conf lines are "name value", not "name=value")`}},
		{"upper case name", "DROP_PATH /Var/Mail", func(c *Config) bool { return c.DropPath == "/Var/Mail" }, nil},
		{"other servers", "pop_port 110\nBan_IP 1.2.3.*\nbomb_whatever 3\ndsmtp_path /usr/local/dmail\nhide_old_bulls",
			func(c *Config) bool {
				want := []Entry{
					{Name: "pop_port", Value: "110", Line: 1},
					{Name: "ban_ip", Value: "1.2.3.*", Line: 2},
					{Name: "bomb_whatever", Value: "3", Line: 3},
					{Name: "dsmtp_path", Value: "/usr/local/dmail", Line: 4},
					{Name: "hide_old_bulls", Value: "", Line: 5},
				}
				if len(c.Others) != len(want) {
					return false
				}
				for i, e := range c.Others {
					if filepath.Base(e.File) != "dmail.conf" {
						return false
					}
					e.File = ""
					if e != want[i] {
						return false
					}
				}
				return true
			}, nil},

		// line syntax
		{"comments and blanks", "# drop_path /nope\n\n   \t\n  # indented comment\n#comment\nhash_spool 1",
			func(c *Config) bool { return c.HashSpool == 1 && c.DropPath == "/spool" }, nil},
		{"indented setting", "   hash_spool\t 1  ", func(c *Config) bool { return c.HashSpool == 1 }, nil},
		{"CRLF", "hash_spool 1\r\nlog_path /logs \r\ndrop_path /spool\r\n",
			func(c *Config) bool { return c.HashSpool == 1 && c.LogPath == "/logs" && c.DropPath == "/spool" }, nil},
		{"BOM", "\xEF\xBB\xBFhash_spool 1", func(c *Config) bool { return c.HashSpool == 1 }, nil},
		{"no final newline", "drop_path /spool\nhash_spool 2", func(c *Config) bool { return c.HashSpool == 2 }, nil},
		{"error line numbers", "\n\n# c\nhash_spool x", nil, []string{`dmail.conf:4: error: hash_spool: "x" is not 0, 1 or 2`}},
		{"indented include", " #include nothing.conf", func(c *Config) bool { return len(c.NotFollowed) == 1 }, nil},
		{"hash space include is a comment", "imapd_include_level 1\n# include nothing.conf",
			func(c *Config) bool { return len(c.NotFollowed) == 0 }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, probs := loadString(t, tt.conf)
			if tt.probs == nil {
				tt.probs = []string{}
			}
			if !slices.Equal(probs, tt.probs) {
				t.Errorf("problems:\n got %q\nwant %q", probs, tt.probs)
			}
			if tt.check != nil && !tt.check(c) {
				t.Errorf("unexpected config: %+v", c)
			}
		})
	}
}

func TestPostChecks(t *testing.T) {
	ntWarn := []string{}
	if runtime.GOOS != "windows" {
		ntWarn = []string{`dmail.conf:1: warning: authent_method nt_user works only on Windows`}
	}
	tests := []struct {
		name  string
		conf  string
		probs []string
	}{
		{"no drop_path", "hash_spool 1\n", []string{`dmail.conf: error: drop_path is not set (it is compulsory)`}},
		{"no drop_path external", "authent_method external\nauthent_process /bin/a\n",
			[]string{`dmail.conf: warning: drop_path is not set`}},
		{"no drop_path maildir", "use_maildir true\nmaildir_home /m\n", []string{`dmail.conf: warning: drop_path is not set`}},
		{"maildir without home", "drop_path /s\nuse_maildir true\n", []string{`dmail.conf:2: error: use_maildir needs maildir_home`}},
		{"external without process", "drop_path /s\nauthent_method external\n",
			[]string{`dmail.conf:2: error: authent_method external needs authent_process or imapd_authent_process`}},
		{"external with imapd process", "drop_path /s\nauthent_method external\nimapd_authent_process /bin/tcpauth\n", []string{}},
		{"nt_user", "authent_method nt_user\ndrop_path /s\n", ntWarn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := load(t, writeFiles(t, map[string]string{"dmail.conf": tt.conf}))
			if !slices.Equal(probs, tt.probs) {
				t.Errorf("problems:\n got %q\nwant %q", probs, tt.probs)
			}
		})
	}
}

func TestAuthProcess(t *testing.T) {
	c, _ := loadString(t, "authent_process /a\n")
	if c.AuthProcess() != "/a" {
		t.Errorf("AuthProcess = %q", c.AuthProcess())
	}
	c, _ = loadString(t, "authent_process /a\nimapd_authent_process /b\n")
	if c.AuthProcess() != "/b" {
		t.Errorf("AuthProcess = %q", c.AuthProcess())
	}
}

func TestWhere(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"dmail.conf": "imapd_include_level 1\ndrop_path /a\n#include inc.conf\n",
		"inc.conf":   "\ndrop_path /b\n",
	})
	c, probs := load(t, dir)
	want := []string{`inc.conf:2: warning: drop_path set again; this line replaces the value from ` +
		filepath.Join(dir, "dmail.conf") + `:2`}
	want[0] = rel(dir, want[0])
	if !slices.Equal(probs, want) {
		t.Errorf("problems:\n got %q\nwant %q", probs, want)
	}
	if got := c.Where("DROP_PATH"); got != filepath.Join(dir, "inc.conf")+":2" {
		t.Errorf("Where(drop_path) = %q", got)
	}
	if got := c.Where("hash_spool"); got != "" {
		t.Errorf("Where(hash_spool) = %q, want default", got)
	}
	if got := c.Where("no_such"); got != "" {
		t.Errorf("Where(no_such) = %q", got)
	}
	var zero Config
	if got := zero.Where("drop_path"); got != "" {
		t.Errorf("zero Config Where = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := tempDir(t)
	if _, _, err := Load(filepath.Join(dir, "missing.conf")); err == nil || !strings.Contains(err.Error(), "missing.conf") {
		t.Errorf("missing main file: err = %v", err)
	}
	if _, _, err := Load(dir); err == nil {
		t.Errorf("directory as main file: no error")
	}
	big := filepath.Join(dir, "big.conf")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding line\n"), maxFileSize/15+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge main file: err = %v", err)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "/etc/dmail.conf", Line: 12, Message: "m", Error: true}, "/etc/dmail.conf:12: m"},
		{Problem{File: "/etc/dmail.conf", Message: "m"}, "/etc/dmail.conf: m"},
		{Problem{Message: "m"}, "m"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
	if HasErrors(nil) || HasErrors([]Problem{{Message: "w"}}) || !HasErrors([]Problem{{Message: "w"}, {Message: "e", Error: true}}) {
		t.Error("HasErrors wrong")
	}
}

func TestRealisticFile(t *testing.T) {
	c, ps, err := Load(filepath.Join("testdata", "dmail.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	if len(c.Files) != 2 || c.ImapdMailboxName != "mail" || len(c.VDomains) != 4 || c.VDomains[3].Domain != "extra.example.org" {
		t.Errorf("include not applied: files %q mailbox %q vdomains %d", c.Files, c.ImapdMailboxName, len(c.VDomains))
	}
	if c.AuthentMethod != "external" || c.AuthProcess() != "/usr/local/dmail/tcpauth" || c.HashSpool != 2 ||
		c.UserQuota != (Quota{Enabled: true, KBytes: 50000}) || c.ImapdTimeout != time.Hour ||
		!slices.Equal(c.HostDomain, []string{"mail.example.com", "example.com", "example.net"}) {
		t.Errorf("unexpected config %+v", c)
	}
	if len(c.Others) < 30 {
		t.Errorf("other servers' settings: %d", len(c.Others))
	}
}
