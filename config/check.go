package config

import (
	"bufio"
	"io"
	"strconv"
)

// String returns "file:line: message" ("file: message" when Line is 0).
func (p Problem) String() string {
	return p.location() + p.Message
}

func (p Problem) location() string {
	switch {
	case p.File == "" && p.Line == 0:
		return ""
	case p.Line == 0:
		return p.File + ": "
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ": "
}

// HasErrors reports whether any problem is an error (not a warning).
func HasErrors(problems []Problem) bool {
	for _, p := range problems {
		if p.Error {
			return true
		}
	}
	return false
}

// WriteCheck writes the report of "imapd -check": the files read, the include
// lines not followed, every setting imapd knows with the value in effect
// ("(default)" when no line set it, else where it was set; settings read but
// not acted on yet say so), the lines meant for the other DMail servers, then
// each problem as "file:line: error: message" or "file:line: warning: message"
// and a count. Lines that are not settings start with '#'. An unset value
// prints as "".
func (c *Config) WriteCheck(w io.Writer, problems []Problem) error {
	b := bufio.NewWriter(w)
	b.WriteString("# files read:\n")
	for _, f := range c.Files {
		b.WriteString("#   " + f + "\n")
	}
	if len(c.NotFollowed) > 0 {
		b.WriteString("# include lines not followed (imapd_include_level):\n")
		for _, inc := range c.NotFollowed {
			b.WriteString("#   " + inc.File + ":" + strconv.Itoa(inc.Line) + ": " + inc.Directive + " " + inc.Path +
				" (imapd_include_level " + strconv.Itoa(inc.Level) + ")\n")
		}
	}

	b.WriteString("# settings, with the value in effect:\n")
	for i := range registry {
		d := &registry[i]
		if d.Status == OtherServer {
			continue
		}
		var o origin
		if d.idx < len(c.where) {
			o = c.where[d.idx]
		}
		note := ""
		switch {
		case o.file == 0:
			note = "default"
		case !d.Repeatable:
			note = c.originString(o)
		}
		if d.Status == ParsedOnly {
			if note != "" {
				note += "; "
			}
			note += "parsed only, not acted on yet"
		}
		if note != "" {
			note = " (" + note + ")"
		}
		vals := d.show(c)
		if len(vals) == 0 {
			b.WriteString(d.Name + ` ""` + note + "\n")
		}
		for _, v := range vals {
			b.WriteString(d.Name + " " + v + note + "\n")
		}
	}

	if len(c.Others) > 0 {
		b.WriteString("# settings of the other DMail servers (DPOP, DSMTP, DList), ignored by imapd:\n")
		for _, e := range c.Others {
			b.WriteString(e.Name + " " + e.Value + " (" + e.File + ":" + strconv.Itoa(e.Line) + ")\n")
		}
	}

	errs, warns := 0, 0
	if len(problems) > 0 {
		b.WriteString("# problems:\n")
	}
	for _, p := range problems {
		sev := "warning: "
		if p.Error {
			sev = "error: "
			errs++
		} else {
			warns++
		}
		b.WriteString(p.location() + sev + p.Message + "\n")
	}
	b.WriteString("# " + plural(errs, "error") + ", " + plural(warns, "warning") + "\n")
	return b.Flush()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
