// Package account owns the mapping from a login name to who the user is and
// where their mail lives: the user name after imapd_strip_domain,
// lowercase_username and the virtual-domain rules, the domain, the name given
// to the authenticator, the drop file (INBOX) and the folder root. It applies
// the login allow-lists valid_users and user_ip_address and refuses names
// that could not safely become a file name. It is pure computation from a
// *config.Config: no file is opened or created here.
//
// # Resolution order
//
//  1. The login is refused if it is empty, longer than 255 bytes, or holds
//     NUL, another control character (< 0x20, 0x7f) or white space (the
//     external authentication protocol separates fields by spaces and has
//     no quoting, so such a name could never be authenticated safely).
//  2. imapd_strip_domain: the longest configured suffix that the login ends
//     with (compared case-insensitively, domains being case-insensitive) is
//     removed, as the manual (4.4.3z6) says. If what is left then ends with
//     "@", that "@" goes too, so both "imapd_strip_domain test.com" and
//     "imapd_strip_domain @test.com" turn "bob@test.com" into "bob". A login
//     that is nothing but the suffix is not stripped.
//  3. Domain: a login "user@domain" (split at the last "@") names its domain.
//     A domain listed in host_domain is the main domain (Domain ""); one
//     listed in a vdomain line is that virtual domain; any other domain is
//     not a local domain, so the whole login, "@" included, is the user name
//     (external authenticators such as NWAuth accept one "@" in names). A
//     login that names no local domain belongs to the vdomain whose IP field
//     equals the local address the client connected to (IPv4-mapped IPv6
//     addresses compare as IPv4; a vdomain with IP "*" is never chosen by
//     address), else to the main domain.
//  4. lowercase_username lower-cases the user name; the domain is always
//     lower-cased.
//  5. valid_users (if any) must match the user name, or "user@domain" for a
//     virtual-domain user; user_ip_address (if any; entries may be comma
//     lists) must match the client IP (an unknown client IP never matches).
//     Patterns use DMail's simple wildcard: "*" matches any run of
//     characters, anywhere in the pattern, everything else is literal; user
//     names compare case-insensitively, like NWAuth.
//  6. The user name "." or "..", or holding ".." anywhere, is refused unless
//     allow_dds is true. "/" and "\" are refused unless listed in
//     invalid_chars (then they are encoded, see below, and can no longer
//     separate path elements). Whatever the settings, the drop file must
//     lie inside the drop directory: a computed path that would leave it is
//     refused, and so is one naming a device (NUL, COM1...) on Windows.
//
// # Names and paths
//
// AuthName, what the authenticator is asked about: with authent_domain true,
// "user@domain" (for the main domain the first host_domain, or just the user
// when there is none: the manual says authent_domain applies to all
// domains). Otherwise: the user name for the main domain; "user@domain" for a
// virtual domain that has a vdomain_passwd file (the unix_user authenticator
// then looks "user" up in that domain's own file); the internal name
// prefix+vdomain_separator+user for other virtual-domain users, so that the
// "bob" of two domains is never the same account to the authenticator
// (dmail.md §4 PROPOSAL; a vdomain with an empty prefix gives the bare user).
//
// FileName, the drop file's name: EncodeName(user) for the main domain;
// for a virtual-domain user EncodeName(prefix) + vdomain_separator +
// EncodeName(user) (a vdomain with an empty prefix uses the bare user name).
// With drop_prefix true the prefix is a directory instead (manual: "the
// virtual domain prefix is used as part of path for drop files", and DPOP's
// documentation says the prefix in the file name is only the default), so
// the file name is the bare encoded user name.
//
// DropFile: base [/ prefix when drop_prefix] / HashDirs(FileName) / FileName,
// where base is the domain's alt_drop_path if it has one, else drop_path.
// FolderRoot is DropFile + ".mbx"; imapd_mailbox_name and home directories
// are the caller's business, as is an external authenticator's drop file
// (see UseDropFile).
//
// Maildir (use_maildir): maildir_home, or the domain's maildir_althome,
// with the same [prefix /] hash directories / FileName as the drop file,
// plus ".mdir" when maildir_suffix is true (always, since 4.4.3z6, also with
// maildir_home and maildir_althome). That directory is the INBOX maildir
// and holds the user's folders (folders.NewMaildir); DropFile and FolderRoot
// are set to it.
//
// invalid_chars encoding (DMail's own encoding is not documented; this is a
// PROPOSAL): every byte listed in invalid_chars, every control byte, and the
// escape character "%" itself become "%XX" (two upper-case hex digits). "%" is
// always encoded so that the mapping is one-to-one: no two user names can
// share a drop file. Names without those bytes are unchanged. A file name
// longer than 255 bytes after encoding is refused.
//
// # hash_spool
//
// DMail's hashing algorithm is not documented (dmail.md §2.3). The rule below
// reproduces the manual's only example, /shared/spool/mail/g/test for user
// "test" with hash_spool 1, and the 4.4.3y/4.4.3z change notes: new hashing
// (imapd_enable_new_hashing true, the default) hashes the ASCII-lower-cased
// name, so upper-case names get lower-case directories, and names whose second
// character is "." (or any other non-alphanumeric byte) are hashed properly
// under hash_spool 2, while ordinary names keep the directory they had before.
// S is the sum of the name's bytes; n is the name (file name, after the
// vdomain prefix and encoding).
//
//	hash_spool | new hashing (default)                  | old hashing (imapd_enable_new_hashing false)
//	-----------+----------------------------------------+---------------------------------------------
//	0          | drop_path/n                            | drop_path/n
//	1          | drop_path/L1/n                         | drop_path/L1/n
//	           |   L1 = 'a' + S(lower(n)) mod 26        |   L1 = 'a' + S(n) mod 26
//	2          | drop_path/L1/L2/n                      | drop_path/L1/L2/n
//	           |   L2 = first [a-z0-9] byte of          |   L2 = n[1] as it is (n[0] for a one-byte
//	           |   lower(n)[1:], "0" if there is none   |   name), so "j.smith" hashed to L1/./j.smith
//
// Examples: "test" -> g (hash_spool 1), g/e (2); "Test" -> g/e new, a/e old
// (S = 416); "j.smith" -> z/s new, z/. old (the file lands in z/). With new hashing a
// hash directory is always one lower-case letter or digit: never ".", ".." or
// a separator. Values of hash_spool above 2 hash like 2; below 0 like 0.
package account

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"

	"imapd/config"
)

// MaxNameLen is the longest login and drop file name accepted, in bytes.
const MaxNameLen = 255

// Account is a resolved login: who the user is and where their mail is.
type Account struct {
	Login      string // as typed
	User       string // after imapd_strip_domain, lowercase_username, vdomain rules (the local part)
	Domain     string // "" for the main domain, else the virtual domain, lower case
	AuthName   string // what the authenticator gets (see the package doc)
	FileName   string // drop file name: [vdomain prefix + separator +] user, invalid_chars encoded
	DropFile   string // INBOX path
	FolderRoot string // DropFile + ".mbx"
	// Maildir is set with use_maildir: the user's INBOX maildir, which
	// also holds the folders; DropFile and FolderRoot are the same path.
	Maildir string
}

// RefusedError says a login was refused before any password check; Reason is
// for the log (it never holds a password), the client only gets "NO".
type RefusedError struct {
	Login  string
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("login %q refused: %s", e.Login, e.Reason)
}

func refuse(login, format string, args ...any) error {
	return &RefusedError{Login: login, Reason: fmt.Sprintf(format, args...)}
}

// Resolve turns a login name into an Account following cfg; clientIP is the
// peer's address, localIP the address the client connected to (either may be
// "" when unknown). Refusals are *RefusedError; other errors are
// configuration problems.
func Resolve(cfg *config.Config, login, clientIP, localIP string) (*Account, error) {
	if cfg == nil {
		return nil, fmt.Errorf("resolve login %q: no configuration", login)
	}
	if login == "" {
		return nil, refuse(login, "empty login name")
	}
	if len(login) > MaxNameLen {
		return nil, refuse(login, "login name longer than %d bytes", MaxNameLen)
	}
	for i := 0; i < len(login); i++ {
		switch c := login[i]; {
		case c == 0:
			return nil, refuse(login, "NUL in login name")
		case c < 0x20 || c == 0x7f:
			return nil, refuse(login, "control character 0x%02x in login name", c)
		case c == ' ':
			return nil, refuse(login, "space in login name")
		}
	}

	name := stripDomain(login, cfg.ImapdStripDomain)
	if name == "" {
		return nil, refuse(login, "empty login name after imapd_strip_domain")
	}

	a := &Account{Login: login}
	var vd *config.VDomain
	named := false // the login named a local domain
	if at := strings.LastIndexByte(name, '@'); at >= 0 {
		dom := strings.ToLower(name[at+1:])
		if isHostDomain(cfg, dom) {
			name, named = name[:at], true
		} else if v := vdomainByName(cfg, dom); v != nil {
			name, named, vd = name[:at], true, v
		}
		// Otherwise not a local domain: the whole login is the user name.
	}
	if !named {
		vd = vdomainByIP(cfg, localIP)
	}
	if name == "" {
		return nil, refuse(login, "empty user name")
	}
	if vd != nil {
		a.Domain = strings.ToLower(vd.Domain)
	}
	if cfg.LowercaseUsername {
		name = strings.ToLower(name)
	}
	a.User = name

	if len(cfg.ValidUsers) > 0 && !validUser(cfg.ValidUsers, a.User, a.Domain) {
		return nil, refuse(login, "user %q is not in valid_users", a.User)
	}
	if len(cfg.UserIPAddress) > 0 && !ipAllowed(cfg.UserIPAddress, clientIP) {
		return nil, refuse(login, "client address %q is not in user_ip_address", clientIP)
	}

	if err := checkName(a.User, cfg); err != nil {
		return nil, refuse(login, "user name: %s", err)
	}

	// Name for the authenticator.
	switch {
	case cfg.AuthentDomain:
		d := a.Domain
		if d == "" && len(cfg.HostDomain) > 0 {
			d = strings.ToLower(cfg.HostDomain[0])
		}
		a.AuthName = a.User
		if d != "" {
			a.AuthName = a.User + "@" + d
		}
	case vd != nil && hasVDomainPasswd(cfg, a.Domain):
		a.AuthName = a.User + "@" + a.Domain
	case vd != nil && vd.Prefix != "":
		a.AuthName = vd.Prefix + cfg.VDomainSeparator + a.User
	default:
		a.AuthName = a.User
	}

	// Drop file name and directory.
	user := EncodeName(a.User, cfg.InvalidChars)
	base := cfg.DropPath
	if vd != nil {
		if alt := altDropPath(cfg, a.Domain); alt != "" {
			base = alt
		}
	}
	if base == "" && !cfg.UseMaildir {
		return nil, fmt.Errorf("resolve login %q: drop_path is not set", login)
	}
	var rel []string
	a.FileName = user
	if vd != nil && vd.Prefix != "" {
		prefix := EncodeName(vd.Prefix, cfg.InvalidChars)
		if err := checkPathElem(prefix); err != nil {
			return nil, fmt.Errorf("resolve login %q: vdomain %s (%s) prefix %q: %v", login, vd.Domain, vd.Line, vd.Prefix, err)
		}
		if cfg.DropPrefix {
			rel = append(rel, prefix)
		} else {
			a.FileName = prefix + cfg.VDomainSeparator + user
		}
	}
	if len(a.FileName) > MaxNameLen {
		return nil, refuse(login, "drop file name longer than %d bytes", MaxNameLen)
	}
	if err := checkPathElem(a.FileName); err != nil {
		return nil, refuse(login, "drop file name %q: %v", a.FileName, err)
	}
	rel = append(rel, HashDirs(cfg, a.FileName)...)
	rel = append(rel, a.FileName)
	// filepath.IsLocal also rejects names Windows reserves (NUL, COM1, ...).
	if r := filepath.Join(rel...); !filepath.IsLocal(r) {
		return nil, refuse(login, "drop file %q would not be a plain file below %q", r, base)
	}
	a.DropFile = filepath.Join(append([]string{base}, rel...)...)
	a.FolderRoot = a.DropFile + ".mbx"
	if cfg.UseMaildir {
		home := cfg.MaildirHome
		if alt := domainPath(cfg.MaildirAltHome, a.Domain); a.Domain != "" && alt != "" {
			home = alt
		}
		if home == "" {
			return nil, fmt.Errorf("resolve login %q: use_maildir is set but maildir_home is not", login)
		}
		if cfg.MaildirSuffix {
			rel[len(rel)-1] += ".mdir"
		}
		a.Maildir = filepath.Join(append([]string{home}, rel...)...)
		a.DropFile, a.FolderRoot = a.Maildir, a.Maildir
	}
	return a, nil
}

// UseDropFile records the drop file an external authenticator returned: it
// becomes INBOX and the folder root becomes path + ".mbx".
func (a *Account) UseDropFile(path string) {
	if path == "" || a.Maildir != "" {
		return // with use_maildir the maildir path comes from the configuration
	}
	a.DropFile = path
	a.FileName = filepath.Base(path)
	a.FolderRoot = path + ".mbx"
}

// EncodeName encodes a user name for use as a file name: every byte listed in
// invalid, every control byte (< 0x20, 0x7f) and "%" become "%XX" with
// upper-case hex digits. Other bytes, UTF-8 included, are kept.
func EncodeName(name, invalid string) string {
	needs := func(c byte) bool {
		return c < 0x20 || c == 0x7f || c == '%' || strings.IndexByte(invalid, c) >= 0
	}
	n := 0
	for i := 0; i < len(name); i++ {
		if needs(name[i]) {
			n++
		}
	}
	if n == 0 {
		return name
	}
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(name) + 2*n)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if needs(c) {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// HashDirs returns the hash_spool directories (0, 1 or 2 elements, outermost
// first) for a drop file name, following the table in the package doc.
func HashDirs(cfg *config.Config, name string) []string {
	level := cfg.HashSpool
	if level <= 0 || name == "" {
		return nil
	}
	if level > 2 {
		level = 2
	}
	n := name
	if cfg.ImapdEnableNewHashing {
		n = asciiLower(name)
	}
	sum := 0
	for i := 0; i < len(n); i++ {
		sum += int(n[i])
	}
	dirs := []string{string(rune('a' + sum%26))}
	if level == 1 {
		return dirs
	}
	if !cfg.ImapdEnableNewHashing {
		c := n[0]
		if len(n) > 1 {
			c = n[1]
		}
		return append(dirs, string([]byte{c}))
	}
	l2 := "0"
	for i := 1; i < len(n); i++ {
		if c := n[i]; c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			l2 = string([]byte{c})
			break
		}
	}
	return append(dirs, l2)
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// stripDomain removes the longest imapd_strip_domain suffix the login ends
// with, then a trailing "@".
func stripDomain(login string, suffixes []string) string {
	if len(suffixes) == 0 {
		return login
	}
	sorted := append([]string(nil), suffixes...)
	sort.SliceStable(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, s := range sorted {
		s = strings.TrimSpace(s)
		if s == "" || len(s) >= len(login) {
			continue
		}
		if strings.EqualFold(login[len(login)-len(s):], s) {
			out := login[:len(login)-len(s)]
			if strings.HasSuffix(out, "@") && !strings.HasPrefix(s, "@") {
				out = out[:len(out)-1]
			}
			return out
		}
	}
	return login
}

func isHostDomain(cfg *config.Config, dom string) bool {
	for _, h := range cfg.HostDomain {
		if strings.EqualFold(strings.TrimSpace(h), dom) {
			return true
		}
	}
	return false
}

func vdomainByName(cfg *config.Config, dom string) *config.VDomain {
	for i := range cfg.VDomains {
		if strings.EqualFold(cfg.VDomains[i].Domain, dom) {
			return &cfg.VDomains[i]
		}
	}
	return nil
}

func vdomainByIP(cfg *config.Config, localIP string) *config.VDomain {
	ip := normalizeIP(localIP)
	if ip == "" {
		return nil
	}
	for i := range cfg.VDomains {
		v := &cfg.VDomains[i]
		if v.IP == "" || v.IP == "*" {
			continue
		}
		if normalizeIP(v.IP) == ip {
			return v
		}
	}
	return nil
}

func hasVDomainPasswd(cfg *config.Config, dom string) bool {
	for d, f := range cfg.VDomainPasswd {
		if f != "" && strings.EqualFold(d, dom) {
			return true
		}
	}
	return false
}

func altDropPath(cfg *config.Config, dom string) string {
	return domainPath(cfg.AltDropPath, dom)
}

// domainPath is a per-domain path setting's value for dom, or "".
func domainPath(m map[string]string, dom string) string {
	for d, p := range m {
		if strings.EqualFold(d, dom) {
			return p
		}
	}
	return ""
}

// normalizeIP returns the canonical text of an IP address (IPv4-mapped IPv6
// as IPv4, zone dropped); text that is no address is returned trimmed.
func normalizeIP(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return s
}

func validUser(patterns []string, user, domain string) bool {
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if Match(p, user, true) || domain != "" && Match(p, user+"@"+domain, true) {
			return true
		}
	}
	return false
}

func ipAllowed(entries []string, clientIP string) bool {
	ip := normalizeIP(clientIP)
	if ip == "" {
		return false
	}
	for _, e := range entries {
		for _, p := range strings.Split(e, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if Match(p, ip, true) || Match(normalizeIP(p), ip, true) {
				return true
			}
		}
	}
	return false
}

// Match reports whether s matches a DMail wildcard pattern: "*" matches any
// run of bytes (including none) anywhere in the pattern, every other byte
// matches itself (ASCII case-insensitively when fold is true).
func Match(pattern, s string, fold bool) bool {
	eq := func(a, b byte) bool {
		if a == b {
			return true
		}
		if !fold {
			return false
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	// Iterative glob with single backtrack point: linear in practice.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && eq(pattern[p], s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// checkName applies the refusal rules that depend on settings to a user name.
func checkName(user string, cfg *config.Config) error {
	if user == "." || user == ".." {
		if !cfg.AllowDDS {
			return fmt.Errorf("%q is not a user name", user)
		}
	}
	if strings.Contains(user, "..") && !cfg.AllowDDS {
		return fmt.Errorf("\"..\" in name (allow_dds is false)")
	}
	for _, sep := range []byte{'/', '\\'} {
		if strings.IndexByte(user, sep) >= 0 && strings.IndexByte(cfg.InvalidChars, sep) < 0 {
			return fmt.Errorf("%q in name and not in invalid_chars", sep)
		}
	}
	return nil
}

// checkPathElem makes sure name is one plain path element.
func checkPathElem(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty")
	case name == "." || name == "..":
		return fmt.Errorf("%q is not a file name", name)
	case strings.ContainsAny(name, "/\\\x00"):
		return fmt.Errorf("path separator in file name")
	}
	if filepath.VolumeName(name) != "" {
		return fmt.Errorf("volume name in file name")
	}
	return nil
}
