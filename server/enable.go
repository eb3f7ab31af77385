package server

import "strings"

// ENABLE (RFC 5161) enables only what the server offers. go-imap enables
// IMAP4rev2 and UTF8=ACCEPT for any client that asks, and announces
// UTF8=ACCEPT itself. IMAP4rev2 is offered (rev2.go); UTF8=ACCEPT is not
// (docs/extensions.md says why): a client that enabled it would send
// APPEND ... UTF8 (~{n}), which needs literal8, which the guard takes only
// as a plain APPEND's message, to refuse it (NO [UNKNOWN-CTE]), where
// RFC 6855 asks for the message to be stored.
//
// So rewriteCaps (tls.go) leaves it out of every capability list, and the
// guard takes it out of ENABLE's arguments before go-imap sees it.

// notEnabled are the capabilities not offered, though go-imap would
// (upper case).
var notEnabled = map[string]bool{"UTF8=ACCEPT": true}

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
