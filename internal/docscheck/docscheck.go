// Package docscheck keeps the manual in docs/ and the example configuration
// in deploy/ in step with the code. It renders docs/settings.md (the
// reference of every dmail.conf setting imapd knows) and
// deploy/dmail.conf.example from config.Settings(); `go run
// ./internal/docscheck/gen` (or `go generate ./internal/docscheck`) writes
// them, and the package's tests fail when either file is stale, when a
// setting is undocumented, when a setting the legacy IMAPD manual lists is
// missing, or when a link between the manual's pages is broken.
//
// The rendered text depends only on config.Settings(): no dates, no host
// names, so the files are reproducible byte for byte.
package docscheck

//go:generate go run ./gen

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"imapd/config"
)

// Generated files, relative to the module root.
const (
	SettingsFile = "docs/settings.md"
	ExampleFile  = "deploy/dmail.conf.example"
)

// GeneratorCommand is what regenerates the files, quoted in their headers
// and in test failures.
const GeneratorCommand = "go run ./internal/docscheck/gen"

// WriteSettings writes the Markdown reference of settings (in the order
// given; config.Settings() is sorted by name): the settings imapd acts on
// or parses, each with its syntax, default, whether it may repeat, and its
// meaning, then the names of the other DMail servers' settings it ignores.
func WriteSettings(w io.Writer, settings []config.Setting) error {
	b := bufio.NewWriter(w)
	var own, other []config.Setting
	for _, s := range settings {
		if s.Status == config.OtherServer {
			other = append(other, s)
		} else {
			own = append(own, s)
		}
	}

	b.WriteString("# dmail.conf settings\n\n")
	b.WriteString("<!-- Generated from config.Settings() by `" + GeneratorCommand + "`. Do not edit: change the\n")
	b.WriteString("     setting's entry in config/settings.go and run the generator again. -->\n\n")
	b.WriteString("Every setting imapd reads from `dmail.conf`, with its default and meaning. The file is\n")
	b.WriteString("shared with the other DMail servers (DPOP, DSMTP): imapd ignores their settings, and they\n")
	b.WriteString("ignore the `imapd_` ones. See [Configuration](configuration.md) for the file's syntax,\n")
	b.WriteString("where imapd looks for it, `#include`, and `imapd -check`.\n\n")
	b.WriteString("Each entry says how far imapd acts on the setting:\n\n")
	b.WriteString("- **acted on**: imapd does what the description says;\n")
	b.WriteString("- **read, not acted on yet**: imapd reads the setting and reports a bad value (`imapd -check`\n")
	b.WriteString("  lists it as \"parsed only, not acted on yet\"), but does not use it yet.\n\n")

	b.WriteString("| setting | default | status |\n| --- | --- | --- |\n")
	for _, s := range own {
		fmt.Fprintf(b, "| [%s](#%s) | %s | %s |\n", s.Name, anchor(s.Name), tableCell(defaultText(s)), statusText(s.Status))
	}
	b.WriteString("\n")

	for _, s := range own {
		fmt.Fprintf(b, "## %s\n\n", s.Name)
		syntax := s.Syntax
		line := code(strings.TrimSpace(s.Name + " " + syntax))
		fmt.Fprintf(b, "- Syntax: %s\n", line)
		fmt.Fprintf(b, "- Default: %s\n", defaultText(s))
		if s.Repeatable {
			b.WriteString("- May appear on several lines; the values accumulate in file order.\n")
		} else {
			b.WriteString("- Once; if it appears again, the last line wins (with a warning).\n")
		}
		fmt.Fprintf(b, "- Status: %s\n\n", statusText(s.Status))
		b.WriteString(wrap(mdText(s.Description), 96, ""))
		b.WriteString("\n")
	}

	if len(other) > 0 {
		b.WriteString("## Settings of the other DMail servers\n\n")
		b.WriteString("imapd accepts these without a warning and ignores them:\n\n")
		for _, s := range other {
			fmt.Fprintf(b, "- %s\n", code(s.Name))
		}
		b.WriteString("\n")
	}
	return b.Flush()
}

// WriteExample writes a dmail.conf example listing every setting imapd
// reads, commented out ("# name value", which the config parser treats as
// a comment), with its meaning above it.
func WriteExample(w io.Writer, settings []config.Setting) error {
	b := bufio.NewWriter(w)
	b.WriteString("# dmail.conf.example: every dmail.conf setting imapd reads, commented out,\n")
	b.WriteString("# each with its default (or its syntax when it has none).\n")
	b.WriteString("# Generated from config.Settings() by `" + GeneratorCommand + "`.\n")
	b.WriteString("#\n")
	b.WriteString("# This is an example only. imapd reads /etc/dmail.conf (unix) or\n")
	b.WriteString("# %SystemRoot%\\system32\\dmail.conf (Windows), or the file named by -i FILE\n")
	b.WriteString("# or $DMAIL_CONF; the DMail POP and SMTP servers read the same file. Copy the\n")
	b.WriteString("# lines you need into it, without the leading \"# \", and check the result with\n")
	b.WriteString("#   imapd -check\n")
	b.WriteString("# Settings are \"name value\" lines; no comment may follow a value on its line.\n")
	b.WriteString("# The full reference is docs/settings.md.\n")
	for _, s := range settings {
		if s.Status == config.OtherServer {
			continue
		}
		b.WriteString("\n")
		desc := s.Description
		if s.Status == config.ParsedOnly {
			desc += " (Read and checked, not acted on yet.)"
		}
		if s.Repeatable {
			desc += " (May repeat.)"
		}
		b.WriteString(wrap(desc, 78, "# "))
		value := s.Default
		if value == "" || strings.ContainsAny(value, " (") {
			// No default, or a default described in words: show the syntax.
			value = s.Syntax
		}
		fmt.Fprintf(b, "# %s\n", strings.TrimSpace(s.Name+" "+value))
	}
	return b.Flush()
}

func statusText(s config.SettingStatus) string {
	switch s {
	case config.Implemented:
		return "acted on"
	case config.ParsedOnly:
		return "read, not acted on yet"
	case config.OtherServer:
		return "other DMail servers only"
	}
	return s.String()
}

func defaultText(s config.Setting) string {
	if s.Default == "" {
		return "not set"
	}
	return code(s.Default)
}

// code returns s as a Markdown code span, with a fence longer than any run
// of backquotes inside it.
func code(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || len(fence) > 1 {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdText escapes the characters that would make plain text in a
// description Markdown: backslashes, "<" (an HTML tag such as <drop file>),
// "*" (emphasis) and backquotes.
func mdText(s string) string {
	return strings.NewReplacer(`\`, `\\`, "<", `\<`, "*", `\*`, "`", "\\`").Replace(s)
}

// tableCell escapes the pipes that would end a table cell (GitHub-flavoured
// Markdown honours \| inside code spans in tables).
func tableCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

// anchor is the GitHub heading anchor of a setting name: setting names are
// lower-case letters, digits and underscores, which anchors keep as they are.
func anchor(name string) string {
	return strings.ToLower(name)
}

// wrap fills text into lines of at most width bytes (longer words stand on
// their own line), each starting with prefix.
func wrap(text string, width int, prefix string) string {
	var out strings.Builder
	line := prefix
	for _, word := range strings.Fields(text) {
		if line != prefix && len(line)+1+len(word) > width {
			out.WriteString(strings.TrimRight(line, " ") + "\n")
			line = prefix
		}
		if line != prefix {
			line += " "
		}
		line += word
	}
	if line != prefix {
		out.WriteString(line + "\n")
	}
	return out.String()
}
