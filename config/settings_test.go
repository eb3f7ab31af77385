package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	all := Settings()
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name
	}
	if !slices.IsSorted(names) {
		t.Errorf("registry is not sorted by name: %q", names)
	}
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("duplicate names in the registry")
	}
	for _, s := range all {
		if s.Name != strings.ToLower(s.Name) || strings.ContainsAny(s.Name, " \t#") {
			t.Errorf("%s: bad name", s.Name)
		}
		if len(s.Description) < 20 || !strings.HasSuffix(s.Description, ".") {
			t.Errorf("%s: description %q too short or not a sentence", s.Name, s.Description)
		}
		if s.Syntax == "" {
			t.Errorf("%s: no syntax", s.Name)
		}
		if isOtherServer(s.Name) {
			t.Errorf("%s is both an imapd setting and in the other servers' list", s.Name)
		}
		got, ok := Lookup(strings.ToUpper(s.Name))
		if !ok || got != s {
			t.Errorf("Lookup(%s) = %+v, %v", s.Name, got, ok)
		}
	}
	if _, ok := Lookup("pop_port"); ok {
		t.Error("Lookup(pop_port) found an imapd setting")
	}
}

// TestRegistryStatus pins which settings are not acted on yet.
func TestRegistryStatus(t *testing.T) {
	parsedOnly := []string{}
	// The manual's IMAPD configuration table, its three imapd settings, and the rest imapd reads.
	manual := []string{
		"authent_domain", "authent_method", "authent_process", "authent_timeout", "bulletin_path", "bulletin_from",
		"dpop_host", "drop_path", "drop_prefix", "forward_user", "forward_window", "hash_spool", "host_domain",
		"invalid_chars", "lock_id", "log_level", "log_path", "lowercase_username", "lowercase_password",
		"maildir_home", "maildir_althome", "max_log_size", "user_ip_address", "user_quota", "use_maildir",
		"valid_users", "vdomain", "vdomain_passwd", "vdomain_separator",
		"imapd_mailbox_name", "imapd_authent_process", "imapd_timeout",
		"imapd_include_level", "imapd_become_user", "imapd_enable_new_hashing", "imapd_strip_domain", "maildir_suffix",
		"allow_dds", "alt_drop_path", "auth_nocache", "authent_cache", "authent_number", "dwatch_path",
		"use_flock", "work_path",
		"imapd_tls_cert", "imapd_tls_key", "imapd_tls_min_version", "imapd_tls_required",
		// Limits (docs/security.md).
		"imapd_login_delay", "imapd_login_delay_max", "imapd_max_connections", "imapd_max_connections_per_ip",
		"imapd_max_login_failures",
		// RFC 6154 (docs/extensions.md).
		"imapd_special_use",
		// Several sessions of a user on one mailbox (docs/sharing.md).
		"imapd_shared_mailboxes",
	}
	var gotParsed, gotAll []string
	for _, s := range Settings() {
		gotAll = append(gotAll, s.Name)
		switch s.Status {
		case ParsedOnly:
			gotParsed = append(gotParsed, s.Name)
		case Implemented:
		default:
			t.Errorf("%s: status %v", s.Name, s.Status)
		}
	}
	slices.Sort(parsedOnly)
	slices.Sort(manual)
	if !slices.Equal(gotParsed, parsedOnly) {
		t.Errorf("parsed-only settings:\n got %q\nwant %q", gotParsed, parsedOnly)
	}
	if !slices.Equal(gotAll, manual) {
		t.Errorf("settings:\n got %q\nwant %q", gotAll, manual)
	}
}

// TestRegistryDefaults checks each documented default against Defaults()
// (the OS-dependent and derived ones excepted), and that repeatable settings
// are exactly the list ones.
func TestRegistryDefaults(t *testing.T) {
	c := Defaults()
	for i := range registry {
		d := &registry[i]
		shown := d.show(c)
		if strings.Contains(d.Default, "(") || strings.Contains(d.Default, ",") {
			continue // "unix_user (nt_user on Windows)", "work_path, else ..."
		}
		switch {
		case d.Default == "" && len(shown) != 0:
			t.Errorf("%s: documented without default, Defaults() gives %q", d.Name, shown)
		case d.Default != "" && (len(shown) != 1 || shown[0] != d.Default):
			t.Errorf("%s: documented default %q, Defaults() gives %q", d.Name, d.Default, shown)
		}
	}
	repeatable := []string{"alt_drop_path", "host_domain", "imapd_special_use", "imapd_strip_domain", "maildir_althome",
		"user_ip_address", "valid_users", "vdomain", "vdomain_passwd"}
	var got []string
	for _, s := range Settings() {
		if s.Repeatable {
			got = append(got, s.Name)
		}
	}
	if !slices.Equal(got, repeatable) {
		t.Errorf("repeatable:\n got %q\nwant %q", got, repeatable)
	}
}

// TestRegistryCoversConfig checks that every setting field of Config is
// reached by some registry entry: setting each entry to a valid value must
// change every field.
func TestRegistryCoversConfig(t *testing.T) {
	values := map[string]string{
		"authent_method": "external", "log_level": "debug", "hash_spool": "2", "user_quota": "77",
		"vdomain": "v.example * v", "alt_drop_path": "d.example /p", "vdomain_passwd": "d.example /p",
		"maildir_althome": "d.example /p", "user_ip_address": "10.*", "dpop_host": "10.0.0.5",
		"imapd_tls_min_version": "1.3", "imapd_special_use": `\Sent Sent Items`,
	}
	base := Defaults()
	p := &parser{c: Defaults(), file: "x", fileIdx: 1}
	p.c.Files = []string{"x"}
	for i := range registry {
		d := &registry[i]
		v, ok := values[d.Name]
		if !ok {
			switch d.Syntax {
			case "true|false":
				v = strings.TrimSpace(strings.Replace(d.Default, "true", "x", 1))
				if v == "x" {
					v = "false"
				} else {
					v = "true"
				}
			case "<number>", "<seconds>", "<bytes>":
				v = "12345"
			default:
				v = "/somevalue"
			}
		}
		p.name = d.Name
		if err := d.apply(p, v); err != nil {
			t.Errorf("%s %s: %v", d.Name, v, err)
		}
	}
	if len(p.problems) != 0 {
		t.Errorf("problems: %v", p.problems)
	}
	bv, cv := reflect.ValueOf(base).Elem(), reflect.ValueOf(p.c).Elem()
	for i := 0; i < bv.NumField(); i++ {
		f := bv.Type().Field(i)
		switch f.Name {
		case "Files", "Others", "NotFollowed", "where":
			continue
		}
		if reflect.DeepEqual(bv.Field(i).Interface(), cv.Field(i).Interface()) {
			t.Errorf("Config.%s is not set by any registry entry", f.Name)
		}
	}
}

func TestSettingStatusString(t *testing.T) {
	for s, want := range map[SettingStatus]string{Implemented: "implemented", ParsedOnly: "parsed only",
		OtherServer: "other server", 9: "status(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q", int(s), s.String())
		}
	}
}

func TestListenAddr(t *testing.T) {
	for _, c := range []struct{ flag, dpop, want string }{
		{":143", "", ":143"},
		{"143", "", ":143"},
		{":143", "10.0.0.5", "10.0.0.5:143"},
		{"143", "10.0.0.5", "10.0.0.5:143"},
		{"143", "::1", "[::1]:143"},
		{"127.0.0.1:143", "10.0.0.5", "127.0.0.1:143"},
		{"[::1]:143", "10.0.0.5", "[::1]:143"},
		{"mail.example:143", "10.0.0.5", "mail.example:143"},
		{"nonsense", "10.0.0.5", "nonsense"},
		{"", "10.0.0.5", ""},
	} {
		cfg := Defaults()
		cfg.DpopHost = c.dpop
		if got := cfg.ListenAddr(c.flag); got != c.want {
			t.Errorf("ListenAddr(%q) with dpop_host %q = %q, want %q", c.flag, c.dpop, got, c.want)
		}
	}
}
