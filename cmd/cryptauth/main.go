// Command cryptauth is an external authenticator (authent_method external,
// authent_process or imapd_authent_process) for small sites, demos and tests:
// it checks passwords against a file of crypt()ed passwords, like NetWin's
// NWAuth, and speaks DMail's external authentication protocol on standard
// input and output.
//
// Usage:
//
//	cryptauth -file FILE [-drop_path DIR] [-hash_spool N] [-old_hashing]
//	cryptauth -add FILE user password|- [dropfile]
//
// The password file has one entry a line, "user:crypthash[:dropfile]";
// blank lines and lines starting with "#" are ignored. Any crypt(3) hash
// auth.VerifyCrypt knows works (yescrypt, SHA-512/256, MD5, bcrypt, DES...);
// -add writes SHA-512 crypt ("$6$", random salt). The file is read again for
// every request, so it can be edited while cryptauth runs; -add replaces it
// atomically (mode 0600).
//
// Protocol, one line per command and per answer:
//
//	check <user> <password> <ip>  ->  +OK <user> <dropfile> 0   |  -ERR Invalid login
//	lookup <user>                 ->  +OK <user> <dropfile> 0   |  -ERR Unknown user
//	exit                          ->  +OK, then cryptauth exits
//	anything else                 ->  -ERR unknown command
//
// A password file that cannot be read gives "-DEAD" (try again later).
// User names are case-insensitive (NWAuth's rule); the answer carries the
// spelling in the file. The password is everything between the user name and
// the last field (the client IP), so passwords may contain spaces (imapd's
// auth.External always sends the IP); with only three fields the third is
// the password. The drop file is the entry's own, else drop_path plus the
// hash_spool directories (account.HashDirs, new hashing unless -old_hashing)
// plus the user name encoded with invalid_chars' default; with neither, the answer is "+OK <user>" and
// imapd keeps the drop file it computed. Passwords are never logged; errors
// go to standard error.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"imapd/account"
	"imapd/auth"
	"imapd/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("cryptauth", flag.ContinueOnError)
	fl.SetOutput(stderr)
	file := fl.String("file", "", "password file: user:crypthash[:dropfile] lines")
	dropPath := fl.String("drop_path", "", "directory of drop files, for entries without a drop file")
	hashSpool := fl.Int("hash_spool", 0, "hash_spool level (0, 1 or 2) for computed drop files")
	oldHashing := fl.Bool("old_hashing", false, "hash like imapd_enable_new_hashing false")
	add := fl.String("add", "", "add or replace an entry in this `FILE`: cryptauth -add FILE user password|- [dropfile]")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: cryptauth -file FILE [-drop_path DIR] [-hash_spool N] [-old_hashing]")
		fmt.Fprintln(stderr, "       cryptauth -add FILE user password|- [dropfile]   (\"-\" reads the password from standard input)")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *add != "" {
		rest := fl.Args()
		if len(rest) < 2 || len(rest) > 3 {
			fl.Usage()
			return 2
		}
		pass := rest[1]
		if pass == "-" {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				fmt.Fprintf(stderr, "cryptauth: read password: %v\n", err)
				return 1
			}
			pass = strings.TrimRight(line, "\r\n")
		}
		drop := ""
		if len(rest) == 3 {
			drop = rest[2]
		}
		if err := addEntry(*add, rest[0], pass, drop); err != nil {
			fmt.Fprintf(stderr, "cryptauth: %v\n", err)
			return 1
		}
		return 0
	}
	if *file == "" || fl.NArg() != 0 {
		fl.Usage()
		return 2
	}
	s := &server{
		file:     *file,
		dropPath: *dropPath,
		cfg:      config.Defaults(),
		stderr:   stderr,
	}
	s.cfg.HashSpool = *hashSpool
	s.cfg.ImapdEnableNewHashing = !*oldHashing
	if err := s.serve(stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "cryptauth: %v\n", err)
		return 1
	}
	return 0
}

type entry struct {
	user, hash, drop string
}

type server struct {
	file     string
	dropPath string
	cfg      *config.Config
	stderr   io.Writer
}

// dummyHash is checked for unknown users so that they take as long as known ones.
const dummyHash = "$6$Bgv0PGhR3kaNbDzi$baieiROHoGlvJfilrzFIJ6dBsdZrDUsC5UpKzAayjw56j/pEYhXTMMh78P1I8J873GVTbvNexyyngfY1L2Rka/"

func (s *server) serve(in io.Reader, out io.Writer) error {
	br := bufio.NewReader(in)
	bw := bufio.NewWriter(out)
	for {
		line, err := br.ReadString('\n')
		if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read command: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		verb, rest, _ := strings.Cut(line, " ")
		var reply string
		switch strings.ToLower(verb) {
		case "check":
			reply = s.check(rest)
		case "lookup":
			reply = s.lookup(strings.TrimSpace(rest))
		case "exit":
			fmt.Fprintln(bw, "+OK")
			return bw.Flush()
		default:
			reply = "-ERR unknown command"
		}
		fmt.Fprintln(bw, reply)
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write reply: %w", err)
		}
	}
}

func (s *server) check(rest string) string {
	user, rest, _ := strings.Cut(rest, " ")
	pass := rest
	if i := strings.LastIndexByte(rest, ' '); i >= 0 {
		pass = rest[:i]
	}
	if user == "" || pass == "" {
		return "-ERR Invalid login"
	}
	e, err := s.find(user)
	if err != nil {
		fmt.Fprintf(s.stderr, "cryptauth: %v\n", err)
		return "-DEAD cannot read the password file"
	}
	if e == nil {
		_, _ = auth.VerifyCrypt(dummyHash, pass)
		return "-ERR Invalid login"
	}
	ok, err := auth.VerifyCrypt(e.hash, pass)
	if err != nil {
		fmt.Fprintf(s.stderr, "cryptauth: %s: entry for %s: %v\n", s.file, e.user, err)
	}
	if !ok {
		return "-ERR Invalid login"
	}
	return s.answer(e)
}

func (s *server) lookup(user string) string {
	if user == "" || strings.ContainsAny(user, " \t") {
		return "-ERR Unknown user"
	}
	e, err := s.find(user)
	if err != nil {
		fmt.Fprintf(s.stderr, "cryptauth: %v\n", err)
		return "-DEAD cannot read the password file"
	}
	if e == nil {
		return "-ERR Unknown user"
	}
	return s.answer(e)
}

func (s *server) answer(e *entry) string {
	drop := e.drop
	if drop == "" && s.dropPath != "" {
		name := account.EncodeName(e.user, s.cfg.InvalidChars)
		parts := append([]string{s.dropPath}, account.HashDirs(s.cfg, name)...)
		drop = filepath.Join(append(parts, name)...)
	}
	if drop == "" {
		return "+OK " + e.user
	}
	return "+OK " + e.user + " " + drop + " 0"
}

// find returns user's entry (case-insensitive), or nil.
func (s *server) find(user string) (*entry, error) {
	entries, _, err := readFile(s.file)
	if err != nil {
		return nil, err
	}
	for i := range entries {
		if strings.EqualFold(entries[i].user, user) {
			return &entries[i], nil
		}
	}
	return nil, nil
}

// readFile parses the password file; lines keeps every line (for -add) and
// entries the parsed ones.
func readFile(path string) (entries []entry, lines []string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read password file: %w", err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil, nil, nil
	}
	lines = strings.Split(text, "\n")
	for _, l := range lines {
		if e, ok := parseLine(l); ok {
			entries = append(entries, e)
		}
	}
	return entries, lines, nil
}

func parseLine(l string) (entry, bool) {
	t := strings.TrimSpace(l)
	if t == "" || strings.HasPrefix(t, "#") {
		return entry{}, false
	}
	f := strings.SplitN(t, ":", 3)
	if len(f) < 2 || f[0] == "" {
		return entry{}, false
	}
	e := entry{user: f[0], hash: f[1]}
	if len(f) == 3 {
		e.drop = f[2]
	}
	return e, true
}

// addEntry adds user with password to file, or replaces its entry (keeping
// its drop file unless drop is given).
func addEntry(file, user, pass, drop string) error {
	if user == "" || strings.HasPrefix(user, "#") || strings.ContainsAny(user, ": \t") || hasControl(user) {
		return fmt.Errorf("user name %q: must be non-empty, without ':', white space or control characters, not starting with '#'", user)
	}
	if pass == "" || hasControl(pass) {
		return fmt.Errorf("password must be non-empty, without control characters")
	}
	if strings.ContainsAny(drop, " \t") || hasControl(drop) {
		return fmt.Errorf("drop file %q: white space and control characters cannot travel in the protocol", drop)
	}
	hash, err := auth.HashPassword(pass)
	if err != nil {
		return err
	}
	_, lines, err := readFile(file)
	mode := fs.FileMode(0o600)
	switch {
	case err == nil:
		if st, serr := os.Stat(file); serr == nil {
			mode = st.Mode().Perm()
		}
	case errors.Is(err, fs.ErrNotExist):
		lines = nil
	default:
		return err
	}
	var out []string
	replaced := false
	for _, l := range lines {
		e, ok := parseLine(l)
		if !ok || !strings.EqualFold(e.user, user) {
			out = append(out, l)
			continue
		}
		if replaced {
			continue // a duplicate entry: dropped
		}
		d := drop
		if d == "" {
			d = e.drop
		}
		out = append(out, formatEntry(user, hash, d))
		replaced = true
	}
	if !replaced {
		out = append(out, formatEntry(user, hash, drop))
	}
	var b strings.Builder
	for _, l := range out {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".cryptauth-*")
	if err != nil {
		return fmt.Errorf("write password file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(mode); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("replace password file: %w", err)
	}
	return nil
}

func formatEntry(user, hash, drop string) string {
	if drop == "" {
		return user + ":" + hash
	}
	return user + ":" + hash + ":" + drop
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
