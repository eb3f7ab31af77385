package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestIncludes(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		read  []string // Config.Files relative to the directory
		probs []string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "level 0 does not follow #include",
			files: map[string]string{
				"dmail.conf": "drop_path /s\n#include a.conf\n",
				"a.conf":     "hash_spool 2\n",
			},
			read: []string{"dmail.conf"},
			check: func(t *testing.T, c *Config) {
				if c.HashSpool != 0 {
					t.Error("a.conf was read")
				}
				want := []Include{{Directive: "#include", Path: "a.conf", Line: 2, Depth: 0, Level: 0}}
				got := slices.Clone(c.NotFollowed)
				for i := range got {
					got[i].File = filepath.Base(got[i].File)
				}
				want[0].File = "dmail.conf"
				if !slices.Equal(got, want) {
					t.Errorf("NotFollowed = %+v", got)
				}
			},
		},
		{
			name: "level 1 follows one level",
			files: map[string]string{
				"dmail.conf": "imapd_include_level 1\ndrop_path /s\n#include a.conf\n",
				"a.conf":     "hash_spool 2\n#include b.conf\n",
				"b.conf":     "log_level debug\n",
			},
			read: []string{"dmail.conf", "a.conf"},
			check: func(t *testing.T, c *Config) {
				if c.HashSpool != 2 || c.LogLevel != "info" {
					t.Errorf("hash_spool %d log_level %s", c.HashSpool, c.LogLevel)
				}
				if len(c.NotFollowed) != 1 || c.NotFollowed[0].Depth != 1 || c.NotFollowed[0].Path != "b.conf" {
					t.Errorf("NotFollowed = %+v", c.NotFollowed)
				}
			},
		},
		{
			name: "level 2 follows two levels",
			files: map[string]string{
				"dmail.conf": "imapd_include_level 2\ndrop_path /s\n#INCLUDE a.conf\nhost_domain main.example\n",
				"a.conf":     "host_domain a.example\n#include b.conf\nhost_domain a2.example\n",
				"b.conf":     "host_domain b.example\n#include c.conf\n",
				"c.conf":     "host_domain c.example\n",
			},
			read: []string{"dmail.conf", "a.conf", "b.conf"},
			check: func(t *testing.T, c *Config) {
				want := []string{"a.example", "b.example", "a2.example", "main.example"}
				if !slices.Equal(c.HostDomain, want) {
					t.Errorf("host_domain = %q, want %q (file order)", c.HostDomain, want)
				}
			},
		},
		{
			name: "level set inside an include",
			files: map[string]string{
				"dmail.conf": "imapd_include_level 1\ndrop_path /s\n#include a.conf\n",
				"a.conf":     "imapd_include_level 2\n#include b.conf\n",
				"b.conf":     "hash_spool 1\n",
			},
			read: []string{"dmail.conf", "a.conf", "b.conf"},
			probs: []string{
				"a.conf:1: warning: imapd_include_level set again; this line replaces the value from dmail.conf:1",
			},
		},
		{
			name: "imapd_include at level 0 is not followed, with a warning",
			files: map[string]string{
				"dmail.conf": "drop_path /s\n#imapd_include imapd.conf\n",
				"imapd.conf": "hash_spool 1\n",
			},
			read:  []string{"dmail.conf"},
			probs: []string{"dmail.conf:2: warning: #imapd_include imapd.conf not followed: imapd_include_level is 0"},
		},
		{
			name: "imapd_include at level 1",
			files: map[string]string{
				"dmail.conf": "imapd_include_level 1\ndrop_path /s\n#Imapd_Include imapd.conf\n",
				"imapd.conf": "hash_spool 1\n#imapd_include deeper.conf\n#include plain.conf\n",
			},
			read: []string{"dmail.conf", "imapd.conf"},
			probs: []string{
				"imapd.conf:2: warning: #imapd_include deeper.conf not followed: imapd_include_level is 1 and this file is already 1 include(s) deep",
			},
			check: func(t *testing.T, c *Config) {
				if c.HashSpool != 1 {
					t.Error("imapd.conf not read")
				}
			},
		},
		{
			name: "imapd_include_level set after the include line",
			files: map[string]string{
				"dmail.conf": "drop_path /s\n#include a.conf\nimapd_include_level 1\n",
				"a.conf":     "hash_spool 1\n",
			},
			read: []string{"dmail.conf"},
			probs: []string{
				"dmail.conf:2: warning: #include a.conf not followed: imapd_include_level was 0 at this line and is raised to 1 later; set it before the include lines",
			},
		},
		{
			name: "include loop",
			files: map[string]string{
				"dmail.conf": "imapd_include_level 9\ndrop_path /s\n#include a.conf\n",
				"a.conf":     "#include b.conf\n",
				"b.conf":     "\n#include dmail.conf\n#include a.conf\nhash_spool 1\n",
			},
			read: []string{"dmail.conf", "a.conf", "b.conf"},
			probs: []string{
				"b.conf:2: error: #include dmail.conf: include loop: dmail.conf is already being read",
				"b.conf:3: error: #include a.conf: include loop: a.conf is already being read",
			},
			check: func(t *testing.T, c *Config) {
				if c.HashSpool != 1 {
					t.Error("b.conf not read to its end")
				}
			},
		},
		{
			name: "self include",
			files: map[string]string{
				"dmail.conf": "imapd_include_level 1\ndrop_path /s\n#include ./dmail.conf\n",
			},
			read:  []string{"dmail.conf"},
			probs: []string{"dmail.conf:3: error: #include ./dmail.conf: include loop: dmail.conf is already being read"},
		},
		{
			name: "same file twice, not a loop",
			files: map[string]string{
				"dmail.conf": "imapd_include_level 1\ndrop_path /s\n#include a.conf\n#include a.conf\n",
				"a.conf":     "host_domain a.example\n",
			},
			read: []string{"dmail.conf", "a.conf", "a.conf"},
			check: func(t *testing.T, c *Config) {
				if len(c.HostDomain) != 2 {
					t.Errorf("host_domain = %q", c.HostDomain)
				}
			},
		},
		{
			name: "missing include",
			files: map[string]string{
				"dmail.conf": "imapd_include_level 1\ndrop_path /s\n#include nothere.conf\nhash_spool 1\n",
			},
			read:  []string{"dmail.conf"},
			probs: []string{"dmail.conf:3: error: #include nothere.conf: cannot read nothere.conf: file does not exist"},
			check: func(t *testing.T, c *Config) {
				if c.HashSpool != 1 {
					t.Error("reading stopped at the missing include")
				}
			},
		},
		{
			name: "include of a directory",
			files: map[string]string{
				"dmail.conf": "imapd_include_level 1\ndrop_path /s\n#include sub\n",
				"sub/x.conf": "",
			},
			read:  []string{"dmail.conf"},
			probs: []string{"dmail.conf:3: error: #include sub: cannot read sub: is a directory"},
		},
		{
			name: "missing file name",
			files: map[string]string{
				"dmail.conf": "imapd_include_level 1\ndrop_path /s\n#include\n#imapd_include   \n",
			},
			read: []string{"dmail.conf"},
			probs: []string{
				"dmail.conf:3: error: #include: missing file name",
				"dmail.conf:4: error: #imapd_include: missing file name",
			},
		},
		{
			name: "relative paths resolve against the including file",
			files: map[string]string{
				"dmail.conf": "imapd_include_level 2\ndrop_path /s\n#include sub/a.conf\n",
				"sub/a.conf": "#include b.conf\n",
				"sub/b.conf": "hash_spool 2\n",
				"b.conf":     "hash_spool 1\n",
			},
			read: []string{"dmail.conf", "sub/a.conf", "sub/b.conf"},
			check: func(t *testing.T, c *Config) {
				if c.HashSpool != 2 {
					t.Errorf("hash_spool = %d: b.conf resolved against the wrong directory", c.HashSpool)
				}
			},
		},
		{
			name: "quoted path, CRLF and problems located in the include",
			files: map[string]string{
				"dmail.conf":   "imapd_include_level 1\r\ndrop_path /s\r\n#include \"my file.conf\"\r\n",
				"my file.conf": "# x\r\nhash_spool 7\r\nno_such_setting 1\r\n",
			},
			read: []string{"dmail.conf", "my file.conf"},
			probs: []string{
				`my file.conf:2: error: hash_spool: "7" is not 0, 1 or 2`,
				`my file.conf:3: warning: unknown setting "no_such_setting"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			c, probs := load(t, dir)
			if tt.probs == nil {
				tt.probs = []string{}
			}
			if !slices.Equal(probs, tt.probs) {
				t.Errorf("problems:\n got %q\nwant %q", probs, tt.probs)
			}
			var read []string
			for _, f := range c.Files {
				read = append(read, rel(dir, f))
			}
			if !slices.Equal(read, tt.read) {
				t.Errorf("files read = %q, want %q", read, tt.read)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestIncludeAbsolute(t *testing.T) {
	other := writeFiles(t, map[string]string{"abs.conf": "hash_spool 2\n"})
	abs := filepath.Join(other, "abs.conf")
	dir := writeFiles(t, map[string]string{"dmail.conf": "imapd_include_level 1\ndrop_path /s\n#include " + abs + "\n"})
	c, probs := load(t, dir)
	if len(probs) != 0 || c.HashSpool != 2 || len(c.Files) != 2 || c.Files[1] != abs {
		t.Errorf("problems %q, hash_spool %d, files %q", probs, c.HashSpool, c.Files)
	}
}

func TestIncludeFileLimit(t *testing.T) {
	conf := "imapd_include_level 1\ndrop_path /s\n" + strings.Repeat("#include a.conf\n", maxFiles+1)
	dir := writeFiles(t, map[string]string{"dmail.conf": conf, "a.conf": "host_domain a.example\n"})
	c, probs := load(t, dir)
	want := []string{
		fmt.Sprintf("dmail.conf:%d: error: #include a.conf: not followed: more than %d files read", maxFiles+2, maxFiles),
		fmt.Sprintf("dmail.conf:%d: error: #include a.conf: not followed: more than %d files read", maxFiles+3, maxFiles),
	}
	if !slices.Equal(probs, want) || len(c.Files) != maxFiles {
		t.Errorf("files %d, problems %q", len(c.Files), probs)
	}
}

func TestIncludeUnreadable(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs unix permissions and a non-root user")
	}
	dir := writeFiles(t, map[string]string{
		"dmail.conf":  "imapd_include_level 1\ndrop_path /s\n#include secret.conf\n",
		"secret.conf": "hash_spool 1\n",
	})
	if err := os.Chmod(filepath.Join(dir, "secret.conf"), 0); err != nil {
		t.Fatal(err)
	}
	_, probs := load(t, dir)
	want := []string{"dmail.conf:3: error: #include secret.conf: cannot read secret.conf: permission denied"}
	if !slices.Equal(probs, want) {
		t.Errorf("problems:\n got %q\nwant %q", probs, want)
	}
}

func TestResolveInclude(t *testing.T) {
	base := filepath.Join("etc", "dmail", "dmail.conf")
	if got, want := resolveInclude(base, "a.conf"), filepath.Join("etc", "dmail", "a.conf"); got != want {
		t.Errorf("relative: %q, want %q", got, want)
	}
	if runtime.GOOS == "windows" {
		if got := resolveInclude(`C:\dmail\dmail.conf`, `\other\a.conf`); got != `C:\other\a.conf` {
			t.Errorf("rooted: %q", got)
		}
		if got := resolveInclude(`C:\dmail\dmail.conf`, `D:\x.conf`); got != `D:\x.conf` {
			t.Errorf("absolute: %q", got)
		}
	} else if got := resolveInclude(base, "/abs/a.conf"); got != "/abs/a.conf" {
		t.Errorf("absolute: %q", got)
	}
}
