package auth

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"imapd/config"
)

// Unix is authent_method unix_user: the password is checked against the
// system's password files with crypt(3) (VerifyCrypt), as getpwnam/getspnam
// would see it, without PAM.
//
//   - PasswdFile in passwd(5) format (7 fields) or BSD master.passwd format
//     (10 fields, the hash inline). A hash field "x" sends the lookup to
//     ShadowFile (shadow(5): name:hash:lastchg:min:max:warn:inactive:expire:).
//   - A name "user@domain" whose domain has a vdomain_passwd file is looked
//     up as "user" in that file (passwd format, hash inline or "x" with no
//     shadow); account.Resolve produces that form.
//   - Empty hashes (no password), locked hashes ("!", "*"), shadow accounts
//     past their expire date, unknown users and unsupported hash schemes are
//     ErrRejected. An unreadable password file is ErrUnavailable (imapd runs
//     setuid root to read /etc/shadow).
//   - Unknown users cost a hash computation too, so that timing does not
//     tell which names exist.
//
// The files are read at every check (imapd runs one process per connection).
type Unix struct {
	PasswdFile        string            // default /etc/passwd (/etc/master.passwd on the BSDs)
	ShadowFile        string            // default /etc/shadow on Linux, Solaris, illumos, AIX; "" on the BSDs
	VDomainPasswd     map[string]string // vdomain_passwd: domain -> passwd file
	LowercasePassword bool              // lowercase_password
}

// NewUnix returns a Unix authenticator with the platform's file locations
// and cfg's vdomain_passwd and lowercase_password.
func NewUnix(cfg *config.Config) (*Unix, error) {
	u := &Unix{PasswdFile: "/etc/passwd", ShadowFile: "/etc/shadow"}
	switch runtime.GOOS {
	case "freebsd", "openbsd", "netbsd", "dragonfly":
		u.PasswdFile, u.ShadowFile = "/etc/master.passwd", ""
	case "darwin", "ios":
		return nil, fmt.Errorf("unix_user authentication is not supported on %s (passwords live in Open Directory): use external", runtime.GOOS)
	}
	if cfg != nil {
		u.VDomainPasswd = cfg.VDomainPasswd
		u.LowercasePassword = cfg.LowercasePassword
	}
	return u, nil
}

// dummyHash is checked for unknown users so that they take as long as known ones.
const dummyHash = "$6$Bgv0PGhR3kaNbDzi$baieiROHoGlvJfilrzFIJ6dBsdZrDUsC5UpKzAayjw56j/pEYhXTMMh78P1I8J873GVTbvNexyyngfY1L2Rka/"

// Check verifies user's password against the password files.
func (u *Unix) Check(user, pass, clientIP string) (*Result, error) {
	if err := checkUserName(user); err != nil {
		return nil, err
	}
	if strings.ContainsRune(user, ':') {
		return nil, rejected("user name holds ':'")
	}
	if err := checkPassword(pass); err != nil {
		return nil, err
	}
	if u.LowercasePassword {
		pass = strings.ToLower(pass)
	}
	name, passwdFile, shadowFile := user, u.PasswdFile, u.ShadowFile
	if at := strings.LastIndexByte(user, '@'); at > 0 {
		for d, f := range u.VDomainPasswd {
			if f != "" && strings.EqualFold(d, user[at+1:]) {
				name, passwdFile, shadowFile = user[:at], f, ""
				break
			}
		}
	}

	pw, err := findEntry(passwdFile, name)
	if err != nil {
		return nil, unavailable("%v", err)
	}
	if pw == nil {
		_, _ = VerifyCrypt(dummyHash, pass)
		return nil, rejected("no user %q in %s", name, passwdFile)
	}
	res := &Result{User: user, UID: -1, GID: -1}
	var hash string
	switch len(pw) {
	case 7: // name:pw:uid:gid:gecos:home:shell
		res.UID, res.GID, res.Home, hash = atoiOr(pw[2]), atoiOr(pw[3]), pw[5], pw[1]
	case 10: // name:pw:uid:gid:class:change:expire:gecos:home:shell
		res.UID, res.GID, res.Home, hash = atoiOr(pw[2]), atoiOr(pw[3]), pw[8], pw[1]
		if exp := atoiOr(pw[6]); exp > 0 && time.Now().Unix() >= int64(exp) {
			return nil, rejected("account %q expired", name)
		}
	default:
		return nil, unavailable("%s: entry for %q has %d fields", passwdFile, name, len(pw))
	}
	if hash == "x" && shadowFile != "" {
		sp, err := findEntry(shadowFile, name)
		if err != nil {
			return nil, unavailable("%v", err)
		}
		if len(sp) < 2 {
			_, _ = VerifyCrypt(dummyHash, pass)
			return nil, rejected("no shadow entry for %q in %s", name, shadowFile)
		}
		hash = sp[1]
		if len(sp) >= 8 && sp[7] != "" {
			if days, err := strconv.ParseInt(sp[7], 10, 64); err == nil && days >= 0 && time.Now().Unix() >= days*86400 {
				return nil, rejected("account %q expired", name)
			}
		}
	}
	if hash == "" {
		return nil, rejected("account %q has no password", name)
	}
	ok, err := VerifyCrypt(hash, pass)
	if err != nil {
		return nil, rejected("account %q: %v", name, err)
	}
	if !ok {
		return nil, rejected("wrong password for %q", name)
	}
	return res, nil
}

// Close does nothing.
func (u *Unix) Close() error { return nil }

// findEntry returns the ':'-separated fields of name's line in file, or nil.
func findEntry(file, name string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("read %s: %w (imapd must run as root for unix_user)", file, err)
		}
		return nil, fmt.Errorf("read password file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	prefix := name + ":"
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, prefix) {
			return strings.Split(line, ":"), nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return nil, nil
}

func atoiOr(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return -1
	}
	return n
}
