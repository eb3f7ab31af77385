package docscheck

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"imapd/config"
)

// root is the module root, two levels above this package.
var root = filepath.Join("..", "..")

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("read %s: %v (run %s)", name, err, GeneratorCommand)
	}
	return string(b)
}

// TestGeneratedFilesFresh fails when docs/settings.md or
// deploy/dmail.conf.example differs from what config.Settings() renders.
func TestGeneratedFilesFresh(t *testing.T) {
	for _, f := range []struct {
		name  string
		write func(io.Writer, []config.Setting) error
	}{
		{SettingsFile, WriteSettings},
		{ExampleFile, WriteExample},
	} {
		var want bytes.Buffer
		if err := f.write(&want, config.Settings()); err != nil {
			t.Fatal(err)
		}
		got := readRepoFile(t, f.name)
		if got != want.String() {
			t.Errorf("%s is stale: config.Settings() changed; run %s and commit the result\n%s",
				f.name, GeneratorCommand, firstDiff(got, want.String()))
		}
	}
}

// firstDiff describes the first differing line of two texts.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "first difference at line " + strconv.Itoa(i+1) + ":\n  file:      " + gl + "\n  generated: " + wl
		}
	}
	return ""
}

// TestEverySettingDocumented fails when a setting of config.Settings() has
// no section (or, for the other servers' settings, no entry) in
// docs/settings.md, or has no description to show.
func TestEverySettingDocumented(t *testing.T) {
	doc := readRepoFile(t, SettingsFile)
	example := readRepoFile(t, ExampleFile)
	for _, s := range config.Settings() {
		if strings.TrimSpace(s.Description) == "" && s.Status != config.OtherServer {
			t.Errorf("setting %s has no Description in config/settings.go", s.Name)
		}
		if s.Status == config.OtherServer {
			if !strings.Contains(doc, "- `"+s.Name+"`\n") {
				t.Errorf("%s: other servers' setting %s is not listed (run %s)", SettingsFile, s.Name, GeneratorCommand)
			}
			continue
		}
		if !strings.Contains(doc, "\n## "+s.Name+"\n") {
			t.Errorf("%s: setting %s is not documented (run %s)", SettingsFile, s.Name, GeneratorCommand)
		}
		if !regexp.MustCompile(`(?m)^# ` + regexp.QuoteMeta(s.Name) + `( |$)`).MatchString(example) {
			t.Errorf("%s: setting %s is missing (run %s)", ExampleFile, s.Name, GeneratorCommand)
		}
	}
}

// legacySettings are the dmail.conf settings the legacy IMAPD manual says
// IMAPD uses: its
// Configuration table, the three IMAPD settings after it, and those named
// in its notes and change list. Each must stay documented.
var legacySettings = []string{
	"authent_domain", "authent_method", "authent_process", "authent_timeout",
	"bulletin_path", "bulletin_from", "dpop_host", "drop_path", "drop_prefix",
	"forward_user", "forward_window", "hash_spool", "host_domain", "invalid_chars",
	"lock_id", "log_level", "log_path", "lowercase_username", "lowercase_password",
	"maildir_home", "maildir_althome", "max_log_size", "user_ip_address",
	"user_quota", "use_maildir", "valid_users", "vdomain", "vdomain_passwd",
	"vdomain_separator",
	"imapd_mailbox_name", "imapd_authent_process", "imapd_timeout",
	"imapd_include_level", "imapd_become_user", "imapd_enable_new_hashing",
	"imapd_strip_domain", "maildir_suffix",
}

func TestLegacyManualSettingsDocumented(t *testing.T) {
	doc := readRepoFile(t, SettingsFile)
	known := map[string]bool{}
	for _, s := range config.Settings() {
		known[s.Name] = true
	}
	for _, name := range legacySettings {
		if !known[name] {
			t.Errorf("the legacy manual's setting %s is missing from config.Settings()", name)
		}
		if !strings.Contains(doc, "\n## "+name+"\n") {
			t.Errorf("%s: the legacy manual's setting %s is not documented", SettingsFile, name)
		}
	}
}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
	mdFence   = regexp.MustCompile("(?ms)^```.*?^```")
)

// anchors returns the GitHub heading anchors of a Markdown text: lower
// case, punctuation other than '-' and '_' dropped, spaces turned into '-'.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	for _, m := range mdHeading.FindAllStringSubmatch(mdFence.ReplaceAllString(text, ""), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}

// TestManualLinks fails when a relative link in docs/*.md names a file
// that does not exist, or a heading anchor that the Markdown page it names
// does not have.
func TestManualLinks(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no docs/*.md: %v", err)
	}
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			dest := page
			if file != "" {
				dest = filepath.Join(filepath.Dir(page), filepath.FromSlash(file))
			}
			text, err := os.ReadFile(dest)
			if err != nil {
				t.Errorf("%s: broken link %s", filepath.Base(page), target)
				continue
			}
			if frag != "" && strings.HasSuffix(dest, ".md") && !anchors(string(text))[frag] {
				t.Errorf("%s: link %s: %s has no heading with that anchor", filepath.Base(page), target, filepath.Base(dest))
			}
		}
	}
}

func TestMarkdownHelpers(t *testing.T) {
	for _, c := range []struct{ in, code, text string }{
		{"plain", "`plain`", "plain"},
		{"a`b", "`` a`b ``", "a\\`b"},
		{`<drop file>.mbx/ *.x ..\`, "`<drop file>.mbx/ *.x ..\\`", `\<drop file>.mbx/ \*.x ..\\`},
	} {
		if got := code(c.in); got != c.code {
			t.Errorf("code(%q) = %q, want %q", c.in, got, c.code)
		}
		if got := mdText(c.in); got != c.text {
			t.Errorf("mdText(%q) = %q, want %q", c.in, got, c.text)
		}
	}
	if got := wrap("aaa bbb ccc", 7, "# "); got != "# aaa\n# bbb\n# ccc\n" {
		t.Errorf("wrap = %q", got)
	}
	a := anchors("# Top\n## Standalone daemon (`-listen`)\n### imapd -check\n```\n# not a heading\n```\n## Linux packages (deb, rpm)\n")
	for _, want := range []string{"top", "standalone-daemon--listen", "imapd--check", "linux-packages-deb-rpm"} {
		if !a[want] {
			t.Errorf("anchors: no %q in %v", want, a)
		}
	}
	if a["not-a-heading"] {
		t.Errorf("anchors: a line in a code fence counted as a heading")
	}
}
