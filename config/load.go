package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// maxFileSize bounds one configuration file; anything larger is not a dmail.conf.
const maxFileSize = 8 << 20

// maxFiles bounds the number of files one Load reads (includes may repeat a
// file without looping, which could otherwise multiply the work).
const maxFiles = 256

var (
	errNotRegular = errors.New("not a regular file")
	errIsDir      = errors.New("is a directory")
	errTooLarge   = fmt.Errorf("larger than %d bytes", maxFileSize)
)

// Load reads the dmail.conf at path, and the files it includes as far as
// imapd_include_level allows, over the defaults. It returns an error only when
// path itself cannot be read; every other finding is a Problem (see the
// package documentation). It runs for every connection, so it is one pass over
// the bytes with no regular expressions.
func Load(path string) (*Config, []Problem, error) {
	data, info, err := readConf(path, false)
	if err != nil {
		return nil, nil, fmt.Errorf("read config %s: %w", path, err)
	}
	c, problems := parse(path, data, info)
	return c, problems, nil
}

// parse reads data as the main file path (info may be nil when unknown).
func parse(path string, data []byte, info os.FileInfo) (*Config, []Problem) {
	c := Defaults()
	c.Files = append(c.Files, path)
	p := &parser{c: c}
	if info != nil {
		p.stack = append(p.stack, info)
	}
	p.parseFile(path, 1, data, 0)
	p.finish(path)
	return c, p.problems
}

// readConf reads one configuration file. Includes must be regular files;
// the main file may also be a pipe (e.g. /dev/stdin).
func readConf(path string, include bool) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	mode := info.Mode()
	switch {
	case mode.IsDir():
		return nil, nil, errIsDir
	case include && !mode.IsRegular():
		return nil, nil, errNotRegular
	case mode.IsRegular() && info.Size() > maxFileSize:
		return nil, nil, errTooLarge
	}
	var buf bytes.Buffer
	if mode.IsRegular() {
		buf.Grow(int(info.Size()) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(f, maxFileSize+1)); err != nil {
		return nil, nil, err
	}
	if buf.Len() > maxFileSize {
		return nil, nil, errTooLarge
	}
	return buf.Bytes(), info, nil
}

// parser holds the state of one Load.
type parser struct {
	c        *Config
	problems []Problem
	stack    []os.FileInfo // files being read, outermost first (loop guard)

	file    string // current file, as in Config.Files
	fileIdx int32  // index in Config.Files plus one
	line    int    // current line
	name    string // canonical name of the setting being applied (for messages)
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// parseFile reads the lines of one file at the given include depth.
func (p *parser) parseFile(path string, fileIdx int32, data []byte, depth int) {
	p.file, p.fileIdx = path, fileIdx
	data = bytes.TrimPrefix(data, bom)
	line := 0
	for len(data) > 0 {
		var ln []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			ln, data = data[:i], data[i+1:]
		} else {
			ln, data = data, nil
		}
		line++
		ln = trimBlank(ln)
		if len(ln) == 0 {
			continue
		}
		p.line = line
		if ln[0] == '#' {
			p.directive(ln[1:], depth)
			continue
		}
		p.setting(ln)
	}
}

// setting handles one "name value" line.
func (p *parser) setting(ln []byte) {
	nameB, valB := ln, []byte(nil)
	if i := indexBlank(ln); i >= 0 {
		nameB, valB = ln[:i], trimBlank(ln[i+1:])
	}
	var d *def
	if hasUpper(nameB) {
		d = byName[strings.ToLower(string(nameB))]
	} else {
		d = byName[string(nameB)] // no allocation
	}
	if d == nil || d.Status == OtherServer {
		name := lowerASCII(string(nameB))
		if d != nil || isOtherServer(name) {
			p.c.Others = append(p.c.Others, Entry{Name: name, Value: string(valB), File: p.file, Line: p.line})
			return
		}
		if strings.IndexByte(name, '=') >= 0 {
			p.warnf("unknown setting %q (dmail.conf lines are \"name value\", not \"name=value\")", string(nameB))
		} else {
			p.warnf("unknown setting %q", string(nameB))
		}
		return
	}
	p.name = d.Name
	if len(valB) == 0 {
		p.errorf("%s: missing value", d.Name)
		return
	}
	before := p.c.where[d.idx]
	if err := d.apply(p, string(valB)); err != nil {
		p.errorf("%s: %s", d.Name, err.Error())
		return
	}
	if !d.Repeatable && before.file != 0 {
		p.warnf("%s set again; this line replaces the value from %s", d.Name, p.c.originString(before))
	}
	p.c.where[d.idx] = origin{file: p.fileIdx, line: int32(p.line)}
}

// directive handles a line starting with '#': rest is what follows the '#'.
func (p *parser) directive(rest []byte, depth int) {
	word, arg := rest, []byte(nil)
	if i := indexBlank(rest); i >= 0 {
		word, arg = rest[:i], trimBlank(rest[i+1:])
	}
	var dir string
	switch {
	case equalFoldASCII(word, "include"):
		dir = "#include"
	case equalFoldASCII(word, "imapd_include"):
		dir = "#imapd_include"
	default:
		return // a comment
	}
	if len(arg) >= 2 && arg[0] == '"' && arg[len(arg)-1] == '"' {
		arg = trimBlank(arg[1 : len(arg)-1])
	}
	if len(arg) == 0 {
		p.errorf("%s: missing file name", dir)
		return
	}
	target := string(arg)
	if level := p.c.ImapdIncludeLevel; depth >= level {
		p.c.NotFollowed = append(p.c.NotFollowed, Include{
			Directive: dir, Path: target, File: p.file, Line: p.line, Depth: depth, Level: level})
		return
	}
	if len(p.c.Files) >= maxFiles {
		p.errorf("%s %s: not followed: more than %d files read", dir, target, maxFiles)
		return
	}
	full := resolveInclude(p.file, target)
	data, info, err := readConf(full, true)
	if err != nil {
		p.errorf("%s %s: cannot read %s: %s", dir, target, full, describe(err))
		return
	}
	for _, open := range p.stack {
		if os.SameFile(open, info) {
			p.errorf("%s %s: include loop: %s is already being read", dir, target, full)
			return
		}
	}
	p.c.Files = append(p.c.Files, full)
	file, fileIdx := p.file, p.fileIdx
	p.stack = append(p.stack, info)
	p.parseFile(full, int32(len(p.c.Files)), data, depth+1)
	p.stack = p.stack[:len(p.stack)-1]
	p.file, p.fileIdx = file, fileIdx
}

// resolveInclude resolves an include path against the including file's directory.
func resolveInclude(including, target string) string {
	if filepath.IsAbs(target) {
		return target
	}
	if runtime.GOOS == "windows" && filepath.VolumeName(target) == "" && len(target) > 0 &&
		(target[0] == '\\' || target[0] == '/') {
		// Rooted but without a drive: on the including file's drive.
		return filepath.VolumeName(including) + target
	}
	return filepath.Join(filepath.Dir(including), target)
}

// describe gives an error text that does not depend on the OS for the common cases.
func describe(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "file does not exist"
	}
	if errors.Is(err, fs.ErrPermission) {
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// finish runs the checks that need the whole configuration and fills derived defaults.
func (p *parser) finish(mainPath string) {
	c := p.c
	for _, inc := range c.NotFollowed {
		switch {
		case inc.Depth < c.ImapdIncludeLevel:
			p.addAt(inc.File, inc.Line, false, fmt.Sprintf(
				"%s %s not followed: imapd_include_level was %d at this line and is raised to %d later; set it before the include lines",
				inc.Directive, inc.Path, inc.Level, c.ImapdIncludeLevel))
		case inc.Directive == "#imapd_include" && inc.Level == 0:
			p.addAt(inc.File, inc.Line, false, fmt.Sprintf(
				"%s %s not followed: imapd_include_level is 0", inc.Directive, inc.Path))
		case inc.Directive == "#imapd_include":
			p.addAt(inc.File, inc.Line, false, fmt.Sprintf(
				"%s %s not followed: imapd_include_level is %d and this file is already %d include(s) deep",
				inc.Directive, inc.Path, inc.Level, inc.Depth))
		}
	}

	if c.LogPath == "" {
		if c.WorkPath != "" {
			c.LogPath = c.WorkPath
		} else {
			c.LogPath = filepath.Dir(mainPath)
		}
	}

	if c.UseMaildir && c.MaildirHome == "" && len(c.MaildirAltHome) == 0 {
		file, line := c.location("use_maildir", mainPath)
		p.addAt(file, line, true, "use_maildir needs maildir_home")
	}
	if c.DropPath == "" {
		if c.AuthentMethod == "external" || c.UseMaildir {
			p.addAt(mainPath, 0, false, "drop_path is not set")
		} else {
			p.addAt(mainPath, 0, true, "drop_path is not set (it is compulsory)")
		}
	}

	if c.ImapdTLSKey != "" && c.ImapdTLSCert == "" {
		file, line := c.location("imapd_tls_key", mainPath)
		p.addAt(file, line, true, "imapd_tls_key is set but imapd_tls_cert is not")
	}
	if c.ImapdTLSRequired && c.ImapdTLSCert == "" {
		file, line := c.location("imapd_tls_required", mainPath)
		p.addAt(file, line, true, "imapd_tls_required true needs imapd_tls_cert: no client could log in")
	}

	file, line := c.location("authent_method", mainPath)
	switch c.AuthentMethod {
	case "external":
		if c.AuthProcess() == "" {
			p.addAt(file, line, true, "authent_method external needs authent_process or imapd_authent_process")
		}
	case "nt_user":
		if runtime.GOOS != "windows" {
			p.addAt(file, line, false, "authent_method nt_user works only on Windows")
		}
	case "unix_user":
		if runtime.GOOS == "windows" {
			p.addAt(file, line, false, "authent_method unix_user does not work on Windows")
		}
	}
}

func (p *parser) warnf(format string, args ...any) {
	p.addAt(p.file, p.line, false, fmt.Sprintf(format, args...))
}

func (p *parser) errorf(format string, args ...any) {
	p.addAt(p.file, p.line, true, fmt.Sprintf(format, args...))
}

func (p *parser) addAt(file string, line int, isErr bool, msg string) {
	p.problems = append(p.problems, Problem{File: file, Line: line, Message: msg, Error: isErr})
}

// where is the current "file:line".
func (p *parser) where() string { return p.file + ":" + strconv.Itoa(p.line) }

// extra warns about text after a one-word value.
func (p *parser) extra(extra string) {
	if extra != "" {
		p.warnf("%s: extra text after the value ignored: %q", p.name, extra)
	}
}

// checkComment warns when a whole-line value looks like it carries a trailing comment.
func (p *parser) checkComment(v string) {
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && isBlank(v[i-1]) {
			p.warnf("%s: the value %q contains %q: dmail.conf has no trailing comments, so it is part of the value",
				p.name, v, v[i-1:i+1])
			return
		}
	}
}

// parseBool reads a dmail.conf boolean (see the package documentation).
func (p *parser) parseBool(w string) (bool, error) {
	switch lowerASCII(w) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "yes", "on", "1":
		p.warnf("%s: %q taken as true (dmail.conf booleans are true or false)", p.name, w)
		return true, nil
	case "no", "off", "0":
		p.warnf("%s: %q taken as false (dmail.conf booleans are true or false)", p.name, w)
		return false, nil
	}
	return false, &valueError{w, "is not true or false"}
}

// ---- byte helpers (ASCII only: dmail.conf names and keywords are ASCII) ----

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' }

func trimBlank(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isBlank(b[i]) {
		i++
	}
	for j > i && isBlank(b[j-1]) {
		j--
	}
	return b[i:j]
}

func indexBlank(b []byte) int {
	for i, c := range b {
		if isBlank(c) {
			return i
		}
	}
	return -1
}

// splitWord splits a trimmed value into its first word and the trimmed rest.
func splitWord(v string) (word, rest string) {
	for i := 0; i < len(v); i++ {
		if isBlank(v[i]) {
			j := i + 1
			for j < len(v) && isBlank(v[j]) {
				j++
			}
			return v[:i], v[j:]
		}
	}
	return v, ""
}

func hasUpper(b []byte) bool {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// lowerASCII lower-cases ASCII letters, returning s itself when nothing changes.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + ('a' - 'A')
				}
			}
			return string(b)
		}
	}
	return s
}

func equalFoldASCII(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
