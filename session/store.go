package session

import (
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/mailbox"
)

// maxKeywordLen is the longest keyword a mailbox file can hold (UW's
// MAXUSERFLAG).
const maxKeywordLen = 50

// parseFlags splits IMAP flags into system flag bits and keywords.
// \Recent cannot be set by a client and is ignored, as RFC 3501 says.
func parseFlags(flags []imap.Flag) (mailbox.Flags, []string, error) {
	var bits mailbox.Flags
	var kws []string
	for _, f := range flags {
		if strings.HasPrefix(string(f), `\`) {
			found := false
			for _, sf := range systemFlags {
				if strings.EqualFold(string(f), string(sf.flag)) {
					bits |= sf.bit
					found = true
				}
			}
			if !found && !strings.EqualFold(string(f), string(flagRecent)) {
				return 0, nil, &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Unknown system flag " + string(f)}
			}
			continue
		}
		if len(f) > maxKeywordLen {
			return 0, nil, &imap.Error{Type: imap.StatusResponseTypeBad, Text: fmt.Sprintf("Keyword %.20s... is longer than %d characters", f, maxKeywordLen)}
		}
		if !slices.ContainsFunc(kws, func(k string) bool { return strings.EqualFold(k, string(f)) }) {
			kws = append(kws, string(f))
		}
	}
	return bits, kws, nil
}

// Store changes flags in memory; they are saved in batches (flush.go).
func (s *Session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	if err := s.begin("STORE"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	defer s.flushLater()
	sel, err := s.needSelected()
	if err != nil {
		return err
	}
	if sel.mbox.ReadOnly() {
		return no(imap.ResponseCodeCannot, "STORE refused: mailbox is open read-only")
	}
	bits, kws, err := parseFlags(flags.Flags)
	if err != nil {
		return err
	}
	numSet = s.resolveSearchRes(numSet) // SEARCHRES "$"
	idx, err := indexes(sel.mbox, sel.told, numSet)
	if err != nil {
		return err
	}
	_, byUID := numSet.(imap.UIDSet)
	var fc flagCache
	fl := fetchLines{conn: s.conn}
	announced := false
	for _, i := range idx {
		m := sel.mbox.Message(i)
		nb, nk := m.Flags, m.Keywords
		switch flags.Op {
		case imap.StoreFlagsSet:
			nb, nk = bits, kws
		case imap.StoreFlagsAdd:
			nb |= bits
			nk = slices.Clone(nk)
			for _, k := range kws {
				if !slices.ContainsFunc(nk, func(n string) bool { return strings.EqualFold(n, k) }) {
					nk = append(nk, k)
				}
			}
		case imap.StoreFlagsDel:
			nb &^= bits
			// Keywords match without regard to case, as in the mailbox.
			nk = slices.DeleteFunc(slices.Clone(nk), func(k string) bool {
				return slices.ContainsFunc(kws, func(d string) bool { return strings.EqualFold(k, d) })
			})
		}
		if err := sel.setFlags(i, nb, nk); err != nil {
			fl.flush()
			return s.storageErr("STORE", err)
		}
		// A keyword this STORE defines is announced before a FETCH shows
		// it: the first message defines them all.
		if len(kws) > 0 && !announced {
			if err := fl.flush(); err != nil {
				return err
			}
			s.announceKeywords()
			announced = true
		}
		if flags.Silent {
			continue
		}
		m = sel.mbox.Message(i)
		it := fetchItems{withUID: byUID, withFlags: true, uid: imap.UID(m.UID), flags: fc.flags(s.shown(m))}
		if ok, err := fl.add(uint32(i+1), it); err != nil {
			return err
		} else if !ok {
			// go-imap refuses the flag, as it always did
			if err := fl.flush(); err != nil {
				return err
			}
			rw := w.CreateMessage(uint32(i + 1))
			if it.withUID {
				rw.WriteUID(it.uid)
			}
			rw.WriteFlags(it.flags)
			if err := rw.Close(); err != nil {
				return err
			}
		}
	}
	return fl.flush()
}
