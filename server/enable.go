package server

import "strings"

// ENABLE (RFC 5161): go-imap enables IMAP4rev2 for any client that asks,
// advertised or not, and then answers as an IMAP4rev2 server in part (no
// RECENT in SELECT, ESEARCH to every SEARCH) while the session still
// speaks IMAP4rev1. IMAP4rev2 is not offered (docs/extensions.md says
// why), and RFC 5161 enables only what the server advertises: the guard
// takes IMAP4rev2 out of ENABLE's arguments before go-imap sees them.

// notEnabled are the capabilities ENABLE must leave off (upper case).
var notEnabled = map[string]bool{"IMAP4REV2": true}

// enable rewrites an ENABLE without the capabilities that stay off. It
// reports whether go-imap is to run it; if not, the guard answered it (it
// asked only for capabilities that stay off).
func (g *guard) enable(c *command) bool {
	if len(c.cuts) != 1 || c.ntoks-c.head != len(c.toks) {
		return true // literals or too long: go-imap's syntax error
	}
	kept := make([]string, 0, len(c.toks))
	dropped := false
	for _, t := range c.toks {
		if t.kind != tokAtom {
			return true
		}
		if notEnabled[upperASCII(t.val)] {
			dropped = true
			continue
		}
		kept = append(kept, t.val)
	}
	if !dropped {
		return true
	}
	if len(kept) == 0 {
		// go-imap takes "ENABLE" without arguments; answer as it would.
		g.reply("* ENABLED")
		g.answer("OK ENABLE completed", c.tag)
		return false
	}
	c.asm = append(c.asm[:0], c.tag+" ENABLE "+strings.Join(kept, " ")+"\r\n"...)
	c.cuts = append(c.cuts[:0], len(c.asm))
	return true
}
