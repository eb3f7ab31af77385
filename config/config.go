// Package config owns dmail.conf: its syntax (name value lines, '#' comments,
// #include / #imapd_include with imapd_include_level), every setting imapd
// reads typed with its documented default, and problems reported as
// "file:line: message". It reads files and nothing else.
//
// # Syntax
//
// The file is read line by line (lines end at LF; a CR before it, and any
// blanks around the line, are dropped; a UTF-8 byte order mark at the start of
// a file is skipped). Empty lines are ignored. A line whose first non-blank
// character is '#' is a comment, except:
//
//	#include FILE
//	#imapd_include FILE
//
// (directive names in any case; FILE is the rest of the line, one pair of
// surrounding double quotes removed). Every other line is "name value": name is
// the first word (letters in any case), value is the rest of the line with the
// surrounding blanks removed. There is no quoting, no escape and no trailing
// comment: "drop_path /var/mail # spool" sets drop_path to "/var/mail # spool"
// (with a warning).
//
// # Includes
//
// The legacy IMAPD follows "#include" only as deep as imapd_include_level
// (default 0: never). The main file is at depth 0; an include line in a file at
// depth d is followed only while d < imapd_include_level, using the value set
// so far (which is why the manual says to put imapd_include_level at the start
// of dmail.conf). The manual says #imapd_include "functions identically to the
// #include command, except that DPOP and DSMTP will ignore it", so this package
// applies the same depth rule to it: with imapd_include_level 0 even a
// top-level #imapd_include is not followed. Since that is almost never what the
// writer meant, such a line gets a warning ("not followed: imapd_include_level
// is 0"); a plain #include that is not followed is normal (DPOP and DSMTP read
// it) and is only listed in Config.NotFollowed and in the -check output, unless
// imapd_include_level is raised later in the files, which gets a warning too.
// Relative include paths are resolved against the directory of the including
// file. An include of a file that is already being read (the include stack,
// compared with os.SameFile) is an error and is not followed; so is a missing
// or unreadable file, a file that is not a regular file, a file larger than
// 8 MiB, and any include once 256 files have been read.
//
// # Values
//
//   - Setting names are matched without regard to case.
//   - Booleans: true or false in any case. yes/no, on/off and 1/0 are accepted
//     with a warning, because DMail documents only true and false and the other
//     DMail servers may read them differently.
//   - Numbers are decimal integers; durations are whole seconds.
//   - Settings whose value is one word (booleans, numbers, domains, log_level...)
//     use the first word; extra text after it gets a warning. Paths, commands
//     and texts take the whole rest of the line.
//   - Domains (host_domain, and the domain of vdomain, alt_drop_path,
//     vdomain_passwd, maildir_althome) are stored lower-cased.
//   - user_quota: false, true (limit from the authenticator or drop_max) or a
//     number of kbytes; 0 means no quota, like false.
//   - vdomain <domain> <ip|*> <prefix> [more fields, ignored]; an ip that is
//     neither "*" nor an IP address gets a warning.
//
// # Problems
//
// Load fails only when the main file cannot be read. Everything else is a
// Problem: an unknown setting is a warning; a setting of one of the other DMail
// servers (DPOP, DSMTP, DList) is accepted silently and kept in Config.Others;
// an invalid value is an error and the value in effect before the line (the
// default, or an earlier line) stays; a setting that may appear once but
// appears again is a warning and the last line wins; repeatable settings
// accumulate in file order. After reading, a missing drop_path is an error
// (a warning when authent_method is external or use_maildir is true, where the
// drop path can come from elsewhere), authent_method external without an
// authentication process is an error, and nt_user outside Windows or
// unix_user on Windows is a warning.
//
// The settings registry (Settings) says for every setting whether imapd acts
// on it (Implemented), only parses it for now (ParsedOnly), or leaves it to
// the other DMail servers (OtherServer). WriteCheck prints the -check report.
package config

import (
	"strconv"
	"time"
)

// Config is the effective configuration one session runs with.
// Field comments name the dmail.conf setting; defaults are set by Defaults().
type Config struct {
	// Files lists every file read, the main file first (for -check).
	Files []string

	// Authentication.
	AuthentMethod        string        // authent_method: "unix_user" (unix default), "nt_user" (windows default), "external"
	AuthentProcess       string        // authent_process
	ImapdAuthentProcess  string        // imapd_authent_process (overrides AuthentProcess for imapd)
	AuthentTimeout       time.Duration // authent_timeout, seconds; default 10s
	AuthentDomain        bool          // authent_domain; default false
	AuthentNumber        int           // authent_number; default 2 (the -listen pool)
	AuthentCache         int           // authent_cache; default 1000 (the -listen cache)
	AuthNoCache          bool          // auth_nocache; default false
	LowercaseUsername    bool          // lowercase_username; default false
	LowercasePassword    bool          // lowercase_password; default false
	ValidUsers           []string      // valid_users, repeatable, '*' wildcards; empty = everyone
	UserIPAddress        []string      // user_ip_address, repeatable and/or comma list, '*' wildcards; empty = any
	ImapdStripDomain     []string      // imapd_strip_domain, repeatable: suffixes removed from login names
	ImapdBecomeUser      bool          // imapd_become_user; default true
	ImapdSharedMailboxes bool          // imapd_shared_mailboxes; default false (the legacy one-writer rule)
	AllowDDS             bool          // allow_dds; default false

	// Domains.
	HostDomain       []string          // host_domain, repeatable, lower-cased; first is the main domain
	VDomains         []VDomain         // vdomain, repeatable, in file order
	VDomainSeparator string            // vdomain_separator; default "."
	VDomainPasswd    map[string]string // vdomain_passwd <domain> <file>, repeatable; key lower-cased; nil when none

	// Drop files and folders.
	DropPath              string            // drop_path (compulsory)
	AltDropPath           map[string]string // alt_drop_path <domain> <path>, repeatable; key lower-cased; nil when none
	DropPrefix            bool              // drop_prefix; default false
	HashSpool             int               // hash_spool 0, 1 or 2; default 0
	InvalidChars          string            // invalid_chars; default "/" on unix, `\/:*?"<>|` on windows
	ImapdEnableNewHashing bool              // imapd_enable_new_hashing; default true
	ImapdMailboxName      string            // imapd_mailbox_name; "" = folders in <dropfile>.mbx/
	ImapdSpecialUse       []SpecialUse      // imapd_special_use, repeatable; nil = the default map (SpecialUseDefault)
	LockID                string            // lock_id (NFS / clusters)
	UseFlock              bool              // use_flock; default true
	UseMaildir            bool              // use_maildir; default false
	MaildirHome           string            // maildir_home
	MaildirAltHome        map[string]string // maildir_althome <domain> <path>; key lower-cased; nil when none
	MaildirSuffix         bool              // maildir_suffix; default true
	UserQuota             Quota             // user_quota false|true|kbytes

	// Sessions.
	ImapdTimeout      time.Duration // imapd_timeout, seconds; default 1800s; 0 = no idle limit
	ImapdIncludeLevel int           // imapd_include_level; default 0
	DpopHost          string        // dpop_host
	BulletinPath      string        // bulletin_path
	BulletinFrom      string        // bulletin_from; default "Email System Administrator"
	ForwardUser       bool          // forward_user; default false
	ForwardWindow     time.Duration // forward_window, seconds; default 900s

	// TLS (see TLSCertificate).
	ImapdTLSCert       string // imapd_tls_cert: PEM certificate chain (and key); "" = no TLS
	ImapdTLSKey        string // imapd_tls_key: PEM private key; "" = in ImapdTLSCert
	ImapdTLSMinVersion string // imapd_tls_min_version: "1.2" (default) or "1.3"
	ImapdTLSRequired   bool   // imapd_tls_required; default false
	// Limits (docs/security.md).
	ImapdMaxConnections      int           // imapd_max_connections; -listen only; default 500; 0 = no cap
	ImapdMaxConnectionsPerIP int           // imapd_max_connections_per_ip; -listen only; default 50; 0 = no cap
	ImapdLoginDelay          time.Duration // imapd_login_delay, seconds; default 2s; 0 = no delay
	ImapdLoginDelayMax       time.Duration // imapd_login_delay_max, seconds; default 30s
	ImapdMaxLoginFailures    int           // imapd_max_login_failures; default 5; 0 = never cut

	// Logging and housekeeping.
	LogPath    string // log_path; default work_path, else the directory of the config file (set by Load)
	LogLevel   string // log_level: "error", "info" or "debug"; default "info"
	MaxLogSize int64  // max_log_size, bytes; 0 = no rotation; default 0
	WorkPath   string // work_path
	DwatchPath string // dwatch_path

	// Others lists, in file order, the lines setting something that belongs to
	// the other DMail servers (DPOP, DSMTP, DList): accepted without a warning,
	// not used by imapd.
	Others []Entry

	// NotFollowed lists the #include and #imapd_include lines that were not
	// followed because of imapd_include_level.
	NotFollowed []Include

	// where[i] is where registry setting i was last set; zero = default.
	where []origin
}

// VDomain is one "vdomain" line: vdomain <domain> <ip|*> <prefix> [more fields ignored].
type VDomain struct {
	Domain string // lower-cased
	IP     string // local IP the domain is served on, or "*"
	Prefix string // drop file name prefix
	Line   string // where it was set, "file:line"
}

// Quota is user_quota: Enabled=false means no quota; KBytes=0 with Enabled means
// "the limit comes from the authenticator or drop_max".
type Quota struct {
	Enabled bool
	KBytes  int64
}

// String returns the dmail.conf form: "false", "true" or the number of kbytes.
func (q Quota) String() string {
	switch {
	case !q.Enabled:
		return "false"
	case q.KBytes == 0:
		return "true"
	}
	return strconv.FormatInt(q.KBytes, 10)
}

// Problem is one finding about the configuration, printed as "file:line: message".
type Problem struct {
	File    string
	Line    int // 0 when the problem is about the file as a whole
	Message string
	Error   bool // false = warning
}

// Entry is one setting line kept as written (used for the other servers' settings).
type Entry struct {
	Name  string // lower-cased
	Value string
	File  string
	Line  int
}

// Include is one #include or #imapd_include line that was not followed.
type Include struct {
	Directive string // "#include" or "#imapd_include"
	Path      string // as written
	File      string // the file holding the line
	Line      int
	Depth     int // include depth of File (the main file is 0)
	Level     int // imapd_include_level in effect at the line
}

// origin is where a setting was set: file is an index into Config.Files plus
// one (0 = not set), line the line number.
type origin struct {
	file int32
	line int32
}

// SpecialUse maps a folder name to the RFC 6154 special use LIST shows
// for it (imapd_special_use).
type SpecialUse struct {
	Attr   string // \Archive, \Drafts, \Junk, \Sent or \Trash
	Folder string // the folder's name as the client sees it
}

// SpecialUseAttrs are the special uses a folder can be given: the ones a
// plain folder can honour (\All and \Flagged would be virtual folders).
var SpecialUseAttrs = []string{`\Archive`, `\Drafts`, `\Junk`, `\Sent`, `\Trash`}

// SpecialUseDefault is the map without imapd_special_use lines: the
// folder names clients create for these uses.
var SpecialUseDefault = []SpecialUse{
	{`\Archive`, "Archive"}, {`\Drafts`, "Drafts"}, {`\Junk`, "Junk"}, {`\Sent`, "Sent"}, {`\Trash`, "Trash"},
}
