package config

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SettingStatus says how far imapd acts on a setting.
type SettingStatus int

const (
	// Implemented: parsed, typed and acted on by imapd.
	Implemented SettingStatus = iota
	// ParsedOnly: parsed and typed (errors are reported), not acted on yet.
	ParsedOnly
	// OtherServer: belongs to DPOP, DSMTP or DList; accepted without a
	// warning, kept in Config.Others, ignored by imapd.
	OtherServer
)

// String returns "implemented", "parsed only" or "other server".
func (s SettingStatus) String() string {
	switch s {
	case Implemented:
		return "implemented"
	case ParsedOnly:
		return "parsed only"
	case OtherServer:
		return "other server"
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// Setting documents one dmail.conf setting. The docs are generated from and
// checked against Settings().
type Setting struct {
	Name        string
	Syntax      string // the value's form, e.g. "true|false", "<domain> <path>"
	Default     string // the default, as text for people; "" = not set
	Description string
	Repeatable  bool
	Status      SettingStatus
}

// def is a registry entry: the documentation plus how to parse and show it.
type def struct {
	Setting
	idx   int                             // index in registry and Config.where
	apply func(p *parser, v string) error // v is non-empty and trimmed; the error text is prefixed with "name: "
	show  func(c *Config) []string        // the effective value(s), one per output line; none = not set
}

// Settings returns the registry: every setting imapd knows, sorted by name.
// The caller may modify the returned slice.
func Settings() []Setting {
	out := make([]Setting, len(registry))
	for i := range registry {
		out[i] = registry[i].Setting
	}
	return out
}

// Lookup returns the registry entry for a setting name (any case).
func Lookup(name string) (Setting, bool) {
	d := byName[lowerASCII(name)]
	if d == nil {
		return Setting{}, false
	}
	return d.Setting, true
}

// The registry, sorted by name (a test checks the order). To change how far
// imapd acts on a setting, change its Status here.
var registry = []def{
	boolSetting(Setting{Name: "allow_dds", Default: "false", Status: Implemented,
		Description: "Allow login names containing ../ or ..\\ (a parent directory reference). " +
			"Leave false: such names could reach files outside the drop path."},
		func(c *Config) *bool { return &c.AllowDDS }),
	domainPathSetting(Setting{Name: "alt_drop_path", Syntax: "<domain> <directory>", Status: Implemented,
		Description: "Drop file directory for the users of one virtual domain, used instead of drop_path. " +
			"Only meaningful without external authentication (the authentication module returns the drop file path itself). " +
			"One line per domain."},
		func(c *Config) *map[string]string { return &c.AltDropPath }),
	boolSetting(Setting{Name: "auth_nocache", Default: "false", Status: Implemented,
		Description: "Do not cache the answers of the external authentication process: every login asks it " +
			"(see authent_cache and authentication.md)."},
		func(c *Config) *bool { return &c.AuthNoCache }),
	intSetting(Setting{Name: "authent_cache", Default: "1000", Status: Implemented,
		Description: "Number of successful external authentication answers a -listen daemon keeps for 60 seconds " +
			"(found by a salted hash of user, password and client IP; failures are never kept). " +
			"0 turns the cache off. See authentication.md."},
		0, 1<<31-1, func(c *Config) *int { return &c.AuthentCache }),
	boolSetting(Setting{Name: "authent_domain", Default: "false", Status: Implemented,
		Description: "External authentication only: send user@domain instead of user to the authentication process, " +
			"so that the same user name can exist in several domains."},
		func(c *Config) *bool { return &c.AuthentDomain }),
	enumSetting(Setting{Name: "authent_method", Syntax: "unix_user|nt_user|external",
		Default: "unix_user (nt_user on Windows)", Status: Implemented,
		Description: "How passwords are checked: unix_user against the system password files (/etc/passwd, /etc/shadow), " +
			"nt_user against the Windows user database, external by asking the process named by " +
			"imapd_authent_process or authent_process."},
		[]string{"unix_user", "nt_user", "external"}, func(c *Config) *string { return &c.AuthentMethod }),
	intSetting(Setting{Name: "authent_number", Default: "2", Status: Implemented,
		Description: "Number of external authentication processes a -listen daemon starts with it, keeps running and shares " +
			"between its sessions (and lends to the session processes it starts as root); logins wait in line " +
			"(at most authent_timeout) when all are busy. A one-connection imapd (inetd) runs one. See authentication.md."},
		1, 1<<31-1, func(c *Config) *int { return &c.AuthentNumber }),
	textSetting(Setting{Name: "authent_process", Syntax: "<command line>", Status: Implemented,
		Description: "The external authentication program (with its arguments) used when authent_method is external. " +
			"imapd_authent_process overrides it for imapd."},
		func(c *Config) *string { return &c.AuthentProcess }),
	secondsSetting(Setting{Name: "authent_timeout", Default: "10", Status: Implemented,
		Description: "Seconds to wait for the external authentication process to answer before the login fails."},
		1, func(c *Config) *time.Duration { return &c.AuthentTimeout }),
	textSetting(Setting{Name: "bulletin_from", Syntax: "<text>", Default: "Email System Administrator", Status: Implemented,
		Description: "The From of bulletin messages: an address used as it is, or a name shown for postmaster@<first host_domain>. " +
			"See bulletins.md."},
		func(c *Config) *string { return &c.BulletinFrom }),
	absPathSetting(Setting{Name: "bulletin_path", Syntax: "<directory>", Status: Implemented,
		Description: "Directory of bulletin messages, files named nnn.txt (nnn = bulletin number), and <domain>/nnn.txt " +
			"for the users of one virtual domain. At login a user receives each bulletin they have not received yet " +
			"as a message in their INBOX; the last number received is kept in <drop file>.bul. An absolute path. See bulletins.md."},
		func(c *Config) *string { return &c.BulletinPath }),
	hostSetting(Setting{Name: "dpop_host", Syntax: "<address>", Status: Implemented,
		Description: "The TCP/IP address of the host DPOP and imapd run on: the address imapd -listen and imapdsvc bind to " +
			"when -listen gives only a port (e.g. -listen :143), and, when it is an IP address, the local address " +
			"IP-based virtual domains are chosen by when the connection's own is not known (a pipe, not a socket). " +
			"See configuration.md."},
		func(c *Config) *string { return &c.DpopHost }),
	textSetting(Setting{Name: "drop_path", Syntax: "<directory>", Status: Implemented,
		Description: "Directory of the users' drop files (their INBOX). Compulsory. " +
			"A user's drop file is named after the user; hash_spool, drop_prefix and vdomain add directories or prefixes."},
		func(c *Config) *string { return &c.DropPath }),
	boolSetting(Setting{Name: "drop_prefix", Default: "false", Status: Implemented,
		Description: "Use the virtual domain prefix as a directory under drop_path instead of a prefix of the drop file name."},
		func(c *Config) *bool { return &c.DropPrefix }),
	textSetting(Setting{Name: "dwatch_path", Syntax: "<directory>", Status: Implemented,
		Description: "Directory of DWatch, the DMail process watcher: its .wat files and the servers' .pid files."},
		func(c *Config) *string { return &c.DwatchPath }),
	boolSetting(Setting{Name: "forward_user", Default: "false", Status: Implemented,
		Description: "Anti-relaying (POP-before-SMTP): the SMTP server relays mail for a client only shortly after a login from its address. " +
			"When true, imapd records each login with the right password (time, client IP, user) in <work_path>/forward.dat, " +
			"which an MTA's relay check reads with imapd -relay-check IP. See relay.md."},
		func(c *Config) *bool { return &c.ForwardUser }),
	secondsSetting(Setting{Name: "forward_window", Default: "900", Status: Implemented,
		Description: "Seconds during which relaying stays allowed after a login (how long forward_user records last; " +
			"older ones are ignored and pruned). 0 records nothing."},
		0, func(c *Config) *time.Duration { return &c.ForwardWindow }),
	intEnumSetting(Setting{Name: "hash_spool", Syntax: "0|1|2", Default: "0", Status: Implemented,
		Description: "Spread drop files over directories under drop_path: 0 = none, 1 = one level of " +
			"single-letter directories, 2 = two levels (recommended above about 20,000 users)."},
		2, func(c *Config) *int { return &c.HashSpool }),
	domainListSetting(Setting{Name: "host_domain", Syntax: "<domain>", Status: Implemented,
		Description: "A domain handled locally. The first host_domain is the main domain, the others are its aliases. " +
			"Compulsory for DSMTP. One line per domain."},
		func(c *Config) *[]string { return &c.HostDomain }),
	textSetting(Setting{Name: "imapd_authent_process", Syntax: "<command line>", Status: Implemented,
		Description: "External authentication program for imapd only, used instead of authent_process " +
			"(for example a fast-starting one such as TCPAuth, since imapd starts one per connection)."},
		func(c *Config) *string { return &c.ImapdAuthentProcess }),
	boolSetting(Setting{Name: "imapd_become_user", Default: "true", Status: Implemented,
		Description: "Unix: after a unix_user login, run the session with the user's own user id, so that a user cannot " +
			"reach other files through links in their mail directories. false keeps running as root, for users " +
			"who may not enter the drop file directories."},
		func(c *Config) *bool { return &c.ImapdBecomeUser }),
	boolSetting(Setting{Name: "imapd_enable_new_hashing", Default: "true", Status: Implemented,
		Description: "Use the hash_spool directory rules of DMail 2.9g and later (user names with unusual characters, " +
			"a '.' as second character, lower-case hash directories). false gives the older locations."},
		func(c *Config) *bool { return &c.ImapdEnableNewHashing }),
	intSetting(Setting{Name: "imapd_include_level", Default: "0", Status: Implemented,
		Description: "How many levels of #include (and #imapd_include) imapd follows: 0 none, 1 those in dmail.conf " +
			"itself, 2 also those in the included files, and so on. Takes effect from the line it is on, " +
			"so put it at the start of dmail.conf."},
		0, 1<<31-1, func(c *Config) *int { return &c.ImapdIncludeLevel }),
	secondsSetting(Setting{Name: "imapd_login_delay", Default: "2", Status: Implemented,
		Description: "Seconds a client waits after its first failed login (LOGIN or AUTHENTICATE) before it may try " +
			"again; each further failure, on the connection or from the same address, doubles it up to " +
			"imapd_login_delay_max. In -listen mode the failures of an address count across its connections. " +
			"0: no delay. See security.md."},
		0, func(c *Config) *time.Duration { return &c.ImapdLoginDelay }),
	secondsSetting(Setting{Name: "imapd_login_delay_max", Default: "30", Status: Implemented,
		Description: "The longest delay after a failed login (see imapd_login_delay). 0: no limit but the " +
			"3 minutes a connection has to log in."},
		0, func(c *Config) *time.Duration { return &c.ImapdLoginDelayMax }),
	textSetting(Setting{Name: "imapd_mailbox_name", Syntax: "<directory name>", Status: Implemented,
		Description: "By default a user's folders live in <drop file>.mbx/ next to the drop file. When set, the folders of " +
			"users with a home directory (unix users, and virtual domain users of the system password file) live in " +
			"this directory of their home instead, e.g. mail (as pine uses), or . for the home itself."},
		func(c *Config) *string { return &c.ImapdMailboxName }),
	intSetting(Setting{Name: "imapd_max_connections", Default: "500", Status: Implemented,
		Description: "-listen: the most connections served at once (sessions in the daemon and session processes " +
			"alike); one more is answered \"* BYE Too many connections\" and closed. 0: no cap. Under inetd, " +
			"inetd's own limits apply instead. See security.md."},
		0, 1<<31-1, func(c *Config) *int { return &c.ImapdMaxConnections }),
	intSetting(Setting{Name: "imapd_max_connections_per_ip", Default: "50", Status: Implemented,
		Description: "-listen: the most connections served at once from one client address (an IPv6 /64 counts " +
			"as one address). 0: no cap. See security.md."},
		0, 1<<31-1, func(c *Config) *int { return &c.ImapdMaxConnectionsPerIP }),
	intSetting(Setting{Name: "imapd_max_login_failures", Default: "5", Status: Implemented,
		Description: "Failed logins after which a connection is told \"* BYE Too many login failures\" and closed. " +
			"0: never."},
		0, 1<<31-1, func(c *Config) *int { return &c.ImapdMaxLoginFailures }),
	boolSetting(Setting{Name: "imapd_shared_mailboxes", Default: "false", Status: Implemented,
		Description: "true: several sessions of this server may hold one mailbox read-write at once (a client's IDLE " +
			"connection next to its fetching one, a phone next to a desktop); each sees the others' new mail, " +
			"expunges and flag changes. false keeps the legacy rule: on unix the earlier session is told to let go " +
			"(\"* BYE Killed (lost mailbox lock)\"), on Windows the later one gets the mailbox read-only. Toward a " +
			"legacy UW-derived server holding the mailbox the legacy rule applies either way. See sharing.md."},
		func(c *Config) *bool { return &c.ImapdSharedMailboxes }),
	specialUseSetting(Setting{Name: "imapd_special_use", Syntax: "<attribute> <folder>", Status: Implemented,
		Default: `\Archive Archive, \Drafts Drafts, \Junk Junk, \Sent Sent, \Trash Trash`,
		Description: "Tells clients which folder serves which purpose (RFC 6154 SPECIAL-USE): LIST marks the folder with the " +
			"attribute, one of \\Archive, \\Drafts, \\Junk, \\Sent or \\Trash, and CREATE folder (USE (attribute)) is honoured " +
			"for that name. The folder is the rest of the line (names may hold spaces, e.g. Sent Items). One line per folder; " +
			"any such line replaces the whole default map. See extensions.md."},
		func(c *Config) *[]SpecialUse { return &c.ImapdSpecialUse }),
	wordListSetting(Setting{Name: "imapd_strip_domain", Syntax: "<suffix>", Status: Implemented,
		Description: "A text removed from the end of login names that end with it, e.g. test.com. One line per suffix."},
		func(c *Config) *[]string { return &c.ImapdStripDomain }),
	secondsSetting(Setting{Name: "imapd_timeout", Default: "1800", Status: Implemented,
		Description: "Seconds a logged-in connection may stay idle before it is closed (0: no limit). " +
			"Before login the limit is always 3 minutes."},
		0, func(c *Config) *time.Duration { return &c.ImapdTimeout }),
	fileSetting(Setting{Name: "imapd_tls_cert", Syntax: "<file>", Status: Implemented,
		Description: "PEM file holding the server's certificate chain (its own certificate first) and, unless " +
			"imapd_tls_key names another file, its private key. Setting it turns TLS on: STARTTLS is offered, and " +
			"imapd -tls (inetd) and -listen-tls serve implicit TLS (port 993). A relative path is relative to the " +
			"directory of the file holding the line. A -listen daemon reads it at start and on SIGHUP; " +
			"see docs/tls.md."},
		func(c *Config) *string { return &c.ImapdTLSCert }),
	fileSetting(Setting{Name: "imapd_tls_key", Syntax: "<file>", Status: Implemented,
		Description: "PEM file holding the private key of imapd_tls_cert, when it is not in that file (unset: the key is read from imapd_tls_cert). " +
			"It should be readable by root only."},
		func(c *Config) *string { return &c.ImapdTLSKey }),
	enumSetting(Setting{Name: "imapd_tls_min_version", Syntax: "1.2|1.3", Default: "1.2", Status: Implemented,
		Description: "The oldest TLS version accepted. The cipher suites are Go's defaults."},
		[]string{"1.2", "1.3"}, func(c *Config) *string { return &c.ImapdTLSMinVersion }),
	boolSetting(Setting{Name: "imapd_tls_required", Default: "false", Status: Implemented,
		Description: "Refuse LOGIN and AUTHENTICATE until the connection is encrypted (STARTTLS or implicit TLS): " +
			"the capabilities say LOGINDISABLED and no AUTH= before it, and a login gets NO [PRIVACYREQUIRED]. " +
			"false keeps the legacy behaviour (passwords in clear text on port 143); true is recommended " +
			"once the clients are set up for TLS. Needs imapd_tls_cert."},
		func(c *Config) *bool { return &c.ImapdTLSRequired }),
	textSetting(Setting{Name: "invalid_chars", Syntax: "<characters>", Default: `/ (\/:*?"<>| on Windows)`, Status: Implemented,
		Description: "Characters that may not appear in a file name: they are encoded when a user name becomes a drop file name."},
		func(c *Config) *string { return &c.InvalidChars }),
	wordSetting(Setting{Name: "lock_id", Syntax: "<text>", Status: Implemented,
		Description: "For drop files on NFS or shared by a cluster of mail servers: a text unique to each server. " +
			"imapd writes it (else the host name) with its process ID into the <drop file>.lock files it makes, " +
			"and breaks at once a lock of this server whose process is gone. When set, the session lock (one " +
			"read-write session per mailbox) is a file beside the mailbox that every server sees, instead of " +
			"UW's /tmp one (see docs/locks.md, and docs/cluster.md for a cluster recipe)."},
		func(c *Config) *string { return &c.LockID }),
	enumSetting(Setting{Name: "log_level", Syntax: "error|info|debug", Default: "info", Status: Implemented,
		Description: "How much goes to the log file: errors only, normal events, or everything for debugging."},
		[]string{"error", "info", "debug"}, func(c *Config) *string { return &c.LogLevel }),
	textSetting(Setting{Name: "log_path", Syntax: "<directory>", Default: "work_path, else the directory of dmail.conf", Status: Implemented,
		Description: "Directory of the log files (imapd.log)."},
		func(c *Config) *string { return &c.LogPath }),
	boolSetting(Setting{Name: "lowercase_password", Default: "false", Status: Implemented,
		Description: "Lower-case passwords before checking them (the authentication must then store lower-case " +
			"passwords or ignore case)."},
		func(c *Config) *bool { return &c.LowercasePassword }),
	boolSetting(Setting{Name: "lowercase_username", Default: "false", Status: Implemented,
		Description: "Lower-case login names before anything else is done with them."},
		func(c *Config) *bool { return &c.LowercaseUsername }),
	domainPathSetting(Setting{Name: "maildir_althome", Syntax: "<domain> <directory>", Status: Implemented,
		Description: "maildir_home for the users of one virtual domain, e.g. maildir_althome vdomain1.example.com " +
			"/shared/spool/maildir/vdomain1. One line per domain."},
		func(c *Config) *map[string]string { return &c.MaildirAltHome }),
	textSetting(Setting{Name: "maildir_home", Syntax: "<directory>", Status: Implemented,
		Description: "With use_maildir: the directory holding every user's maildir (incoming mail and folders)."},
		func(c *Config) *string { return &c.MaildirHome }),
	boolSetting(Setting{Name: "maildir_suffix", Default: "true", Status: Implemented,
		Description: "With use_maildir: append .mdir to the name of each user's maildir directory " +
			"(always, also with maildir_home and maildir_althome, as since 4.4.3z6). See docs/maildir.md."},
		func(c *Config) *bool { return &c.MaildirSuffix }),
	int64Setting(Setting{Name: "max_log_size", Default: "0", Status: Implemented,
		Description: "Size in bytes at which the log file is renamed and a new one started (0: never)."},
		func(c *Config) *int64 { return &c.MaxLogSize }),
	boolSetting(Setting{Name: "use_flock", Default: "true", Status: Implemented,
		Description: "Unix: lock drop files with flock() as well as with lock files."},
		func(c *Config) *bool { return &c.UseFlock }),
	boolSetting(Setting{Name: "use_maildir", Default: "false", Status: Implemented,
		Description: "Store the INBOX and all folders as maildirs under maildir_home instead of drop files and folder files. " +
			"See docs/maildir.md for the layout and what happens to existing drop files."},
		func(c *Config) *bool { return &c.UseMaildir }),
	ipListSetting(Setting{Name: "user_ip_address", Syntax: "<ip pattern>[,<ip pattern>...]", Status: Implemented,
		Description: "Client addresses users may connect from, with * as wildcard (e.g. 10.1.*). " +
			"Repeatable, and a line may hold a comma separated list. None: any address."},
		func(c *Config) *[]string { return &c.UserIPAddress }),
	quotaSetting(Setting{Name: "user_quota", Syntax: "true|false|<kbytes>", Default: "false", Status: Implemented,
		Description: "Per-user mailbox quota: false for none, true for the limit given by the authentication module " +
			"(quota=<kbytes> in its info field; else drop_max), or a default limit in kbytes. Usage is the drop file plus " +
			"every file of the user's folders. APPEND, COPY and MOVE are refused with NO [OVERQUOTA] when the user is at or " +
			"over the limit; one that starts under it may end slightly over. Users of both DPOP and imapd effectively get " +
			"the quota twice. See quota.md."}),
	wordListSetting(Setting{Name: "valid_users", Syntax: "<user pattern>", Status: Implemented,
		Description: "Users allowed to log in, with * as wildcard. One line per pattern. None: every user."},
		func(c *Config) *[]string { return &c.ValidUsers }),
	vdomainSetting(Setting{Name: "vdomain", Syntax: "<domain> <ip|*> <prefix> [...]", Status: Implemented,
		Description: "A virtual domain: its name, the local IP address it is served on (* for any), and the prefix " +
			"joined to its users' names (with vdomain_separator) to form their drop file names. " +
			"Further fields are for the other DMail servers. One line per domain."}),
	domainPathSetting(Setting{Name: "vdomain_passwd", Syntax: "<domain> <file>", Status: Implemented,
		Description: "Unix: a separate passwd file for the users of one virtual domain. One line per domain."},
		func(c *Config) *map[string]string { return &c.VDomainPasswd }),
	wordSetting(Setting{Name: "vdomain_separator", Syntax: "<character>", Default: ".", Status: Implemented,
		Description: "The character joining a virtual domain prefix and a user name."},
		func(c *Config) *string { return &c.VDomainSeparator }),
	textSetting(Setting{Name: "work_path", Syntax: "<directory>", Status: Implemented,
		Description: "DMail's working directory; the default directory for log files."},
		func(c *Config) *string { return &c.WorkPath }),
}

// otherServer lists settings of DPOP, DSMTP and DList seen in the DMail
// documentation. They are accepted silently and kept in Config.Others. The
// list is not complete: DMail has hundreds of settings; an unlisted one is an
// "unknown setting" warning, harmless.
var otherServer = []string{
	"add_footer", "add_status", "alias", "alias_fallthrough", "alias_file", "alias_file_domain",
	"allow_ip", "allowdup", "apop_enable", "archive_batch",
	"bin_path", "bin_pfull", "dns_host", "dns_timeout", "dpop_path", "drop_max", "drop_users",
	"dsmtp_path", "forward_from_ip", "hash_bindir", "hide_old_bulls", "log_data",
	"manager_ip_address", "manager_ip_name", "max_loglen", "min_space", "pop_port",
	"rotated_logs", "stats_path", "sysadmin", "use_drop",
}

// otherServerPrefixes are families of other-server settings (ban_ip,
// ban_mailfrom, bomb_max, bounce_body...).
var otherServerPrefixes = []string{"ban_", "bomb_", "bounce_"}

var (
	byName     map[string]*def
	otherNames map[string]bool
)

func init() {
	byName = make(map[string]*def, len(registry))
	for i := range registry {
		registry[i].idx = i
		byName[registry[i].Name] = &registry[i]
	}
	otherNames = make(map[string]bool, len(otherServer))
	for _, n := range otherServer {
		otherNames[n] = true
	}
}

// isOtherServer reports whether a lower-cased name is a known setting of the
// other DMail servers.
func isOtherServer(name string) bool {
	if otherNames[name] {
		return true
	}
	for _, p := range otherServerPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// ---- setting kinds ----

func boolSetting(s Setting, get func(*Config) *bool) def {
	s.Syntax = "true|false"
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			w, extra := splitWord(v)
			b, err := p.parseBool(w)
			if err != nil {
				return err
			}
			*get(p.c) = b
			p.extra(extra)
			return nil
		},
		show: func(c *Config) []string { return []string{strconv.FormatBool(*get(c))} },
	}
}

// wordSetting is a one-word string.
func wordSetting(s Setting, get func(*Config) *string) def {
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			w, extra := splitWord(v)
			*get(p.c) = w
			p.extra(extra)
			return nil
		},
		show: func(c *Config) []string { return showString(*get(c)) },
	}
}

// hostSetting is one IP address or DNS host name (no port).
func hostSetting(s Setting, get func(*Config) *string) def {
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			w, extra := splitWord(v)
			if !validHost(w) {
				return &valueError{w, "is not an IP address or host name"}
			}
			*get(p.c) = w
			p.extra(extra)
			return nil
		},
		show: func(c *Config) []string { return showString(*get(c)) },
	}
}

func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// absPathSetting takes the rest of the line as an absolute path.
func absPathSetting(s Setting, get func(*Config) *string) def {
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			p.checkComment(v)
			if !filepath.IsAbs(v) && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, `\\`) {
				return &valueError{v, "is not an absolute path"}
			}
			*get(p.c) = v
			return nil
		},
		show: func(c *Config) []string { return showString(*get(c)) },
	}
}

// textSetting takes the whole rest of the line (paths, commands, texts).
func textSetting(s Setting, get func(*Config) *string) def {
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			p.checkComment(v)
			*get(p.c) = v
			return nil
		},
		show: func(c *Config) []string { return showString(*get(c)) },
	}
}

// fileSetting is a file name (the rest of the line); a relative one is
// taken relative to the directory of the file holding the line.
func fileSetting(s Setting, get func(*Config) *string) def {
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			p.checkComment(v)
			if !filepath.IsAbs(v) {
				v = filepath.Join(filepath.Dir(p.file), v)
			}
			*get(p.c) = v
			return nil
		},
		show: func(c *Config) []string { return showString(*get(c)) },
	}
}

func enumSetting(s Setting, values []string, get func(*Config) *string) def {
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			w, extra := splitWord(v)
			lw := lowerASCII(w)
			for _, ok := range values {
				if lw == ok {
					*get(p.c) = ok
					p.extra(extra)
					return nil
				}
			}
			return &valueError{w, "is not " + orList(values)}
		},
		show: func(c *Config) []string { return showString(*get(c)) },
	}
}

func intSetting(s Setting, min, max int64, get func(*Config) *int) def {
	if s.Syntax == "" {
		s.Syntax = "<number>"
	}
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			w, extra := splitWord(v)
			n, err := parseInt(w, min, max)
			if err != nil {
				return err
			}
			*get(p.c) = int(n)
			p.extra(extra)
			return nil
		},
		show: func(c *Config) []string { return []string{strconv.Itoa(*get(c))} },
	}
}

func int64Setting(s Setting, get func(*Config) *int64) def {
	s.Syntax = "<bytes>"
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			w, extra := splitWord(v)
			n, err := parseInt(w, 0, 1<<62)
			if err != nil {
				return err
			}
			*get(p.c) = n
			p.extra(extra)
			return nil
		},
		show: func(c *Config) []string { return []string{strconv.FormatInt(*get(c), 10)} },
	}
}

// intEnumSetting is a number from 0 to max, reported as "0, 1 or 2".
func intEnumSetting(s Setting, max int, get func(*Config) *int) def {
	names := make([]string, max+1)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			w, extra := splitWord(v)
			if len(w) != 1 || w[0] < '0' || int(w[0]-'0') > max {
				return &valueError{w, "is not " + orList(names)}
			}
			*get(p.c) = int(w[0] - '0')
			p.extra(extra)
			return nil
		},
		show: func(c *Config) []string { return []string{strconv.Itoa(*get(c))} },
	}
}

// maxSeconds keeps durations far from time.Duration overflow (about 68 years).
const maxSeconds = 1<<31 - 1

func secondsSetting(s Setting, min int64, get func(*Config) *time.Duration) def {
	s.Syntax = "<seconds>"
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			w, extra := splitWord(v)
			n, err := parseInt(w, min, maxSeconds)
			if err != nil {
				return err
			}
			*get(p.c) = time.Duration(n) * time.Second
			p.extra(extra)
			return nil
		},
		show: func(c *Config) []string {
			return []string{strconv.FormatInt(int64(*get(c)/time.Second), 10)}
		},
	}
}

func quotaSetting(s Setting) def {
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			w, extra := splitWord(v)
			if w != "" && w[0] >= '0' && w[0] <= '9' {
				n, err := parseInt(w, 0, 1<<53)
				if err != nil {
					return &valueError{w, "is not true, false or a number of kbytes"}
				}
				p.c.UserQuota = Quota{Enabled: n > 0, KBytes: n}
			} else {
				b, err := p.parseBool(w)
				if err != nil {
					return &valueError{w, "is not true, false or a number of kbytes"}
				}
				p.c.UserQuota = Quota{Enabled: b}
			}
			p.extra(extra)
			return nil
		},
		show: func(c *Config) []string { return []string{c.UserQuota.String()} },
	}
}

// wordListSetting is a repeatable one-word setting.
func wordListSetting(s Setting, get func(*Config) *[]string) def {
	return listSetting(s, get, func(w string) string { return w })
}

// domainListSetting is a repeatable one-word domain, lower-cased.
func domainListSetting(s Setting, get func(*Config) *[]string) def {
	return listSetting(s, get, lowerASCII)
}

// listSetting is a repeatable one-word setting whose words norm shapes.
func listSetting(s Setting, get func(*Config) *[]string, norm func(string) string) def {
	s.Repeatable = true
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			w, extra := splitWord(v)
			l := get(p.c)
			*l = append(*l, norm(w))
			p.extra(extra)
			return nil
		},
		show: func(c *Config) []string { return *get(c) },
	}
}

// specialUseSetting is a repeatable "<attribute> <folder>" pair.
func specialUseSetting(s Setting, get func(*Config) *[]SpecialUse) def {
	s.Repeatable = true
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			attr, folder := splitWord(v)
			i := slices.IndexFunc(SpecialUseAttrs, func(a string) bool { return strings.EqualFold(a, attr) })
			if i < 0 {
				return fmt.Errorf("\"%s\" is not a special use (one of %s)", attr, strings.Join(SpecialUseAttrs, " "))
			}
			if folder == "" {
				return fmt.Errorf("no folder name after %s", attr)
			}
			p.checkComment(folder)
			*get(p.c) = append(*get(p.c), SpecialUse{Attr: SpecialUseAttrs[i], Folder: folder})
			return nil
		},
		show: func(c *Config) []string {
			var out []string
			for _, u := range *get(c) {
				out = append(out, u.Attr+" "+u.Folder)
			}
			return out
		},
	}
}

// ipListSetting is a repeatable list of IP patterns, separated by commas
// and/or blanks.
func ipListSetting(s Setting, get func(*Config) *[]string) def {
	s.Repeatable = true
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			l := get(p.c)
			for len(v) > 0 {
				i := strings.IndexAny(v, ", \t")
				item := v
				if i >= 0 {
					item, v = v[:i], v[i+1:]
				} else {
					v = ""
				}
				if item == "" {
					continue
				}
				if !ipPattern(item) {
					p.warnf("%s: %q does not look like an IP address pattern", p.name, item)
				}
				*l = append(*l, item)
			}
			return nil
		},
		show: func(c *Config) []string { return *get(c) },
	}
}

// domainPathSetting is a repeatable "<domain> <path>" kept in a map.
func domainPathSetting(s Setting, get func(*Config) *map[string]string) def {
	s.Repeatable = true
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			dom, path := splitWord(v)
			if path == "" {
				return &syntaxError{"needs " + s.Syntax}
			}
			p.checkComment(path)
			dom = lowerASCII(dom)
			m := get(p.c)
			if *m == nil {
				*m = make(map[string]string)
			}
			if _, dup := (*m)[dom]; dup {
				p.warnf("%s: %s given again; this line replaces the earlier one", p.name, dom)
			}
			(*m)[dom] = path
			return nil
		},
		show: func(c *Config) []string {
			m := *get(c)
			out := make([]string, 0, len(m))
			for k, v := range m {
				out = append(out, k+" "+v)
			}
			slices.Sort(out)
			return out
		},
	}
}

func vdomainSetting(s Setting) def {
	s.Repeatable = true
	return def{Setting: s,
		apply: func(p *parser, v string) error {
			dom, rest := splitWord(v)
			ip, rest := splitWord(rest)
			prefix, _ := splitWord(rest)
			if prefix == "" {
				return &syntaxError{"needs " + s.Syntax}
			}
			dom = lowerASCII(dom)
			if ip != "*" {
				if _, err := netip.ParseAddr(ip); err != nil {
					p.warnf("%s: %q is neither an IP address nor *", p.name, ip)
				}
			}
			for _, old := range p.c.VDomains {
				if old.Domain == dom {
					p.warnf("%s: %s is already defined at %s", p.name, dom, old.Line)
					break
				}
			}
			p.c.VDomains = append(p.c.VDomains, VDomain{Domain: dom, IP: ip, Prefix: prefix, Line: p.where()})
			return nil
		},
		show: func(c *Config) []string {
			out := make([]string, len(c.VDomains))
			for i, d := range c.VDomains {
				out[i] = d.Domain + " " + d.IP + " " + d.Prefix
			}
			return out
		},
	}
}

// ---- value helpers ----

// valueError is an invalid value: printed as `"value" reason`.
type valueError struct{ value, reason string }

func (e *valueError) Error() string { return strconv.Quote(e.value) + " " + e.reason }

// syntaxError is a malformed line.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

func showString(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// parseInt parses a decimal integer in [min, max].
func parseInt(w string, min, max int64) (int64, error) {
	n, err := strconv.ParseInt(w, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, &valueError{w, "is too large"}
		}
		return 0, &valueError{w, "is not a whole number"}
	}
	if n < min {
		return 0, &valueError{w, "is less than " + strconv.FormatInt(min, 10)}
	}
	if n > max {
		return 0, &valueError{w, "is too large (at most " + strconv.FormatInt(max, 10) + ")"}
	}
	return n, nil
}

// orList renders ["a","b","c"] as "a, b or c".
func orList(v []string) string {
	switch len(v) {
	case 0:
		return ""
	case 1:
		return v[0]
	}
	return strings.Join(v[:len(v)-1], ", ") + " or " + v[len(v)-1]
}

// ipPattern accepts IPv4/IPv6 addresses with * wildcards.
func ipPattern(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '.', c == ':', c == '*':
		default:
			return false
		}
	}
	return true
}
