package session

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"imapd/mailbox"
)

// search matches messages against the criteria (Search, searchres.go,
// wraps it for SEARCHRES). Header and body text are read only for the
// messages and keys that need them.
func (s *Session) search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	if err := s.begin("SEARCH"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	sel, err := s.needSelected()
	if err != nil {
		return nil, err
	}
	n := sel.told
	if l := sel.mbox.Len(); l < n {
		n = l
	}
	var maxUID uint32
	if n > 0 {
		maxUID = sel.mbox.Message(n - 1).UID
	}
	data := &imap.SearchData{}
	var seqs imap.SeqSet
	var uids imap.UIDSet
	// Header reads, shared by the candidates: only the fields the
	// criteria name.
	hr := headerReads{names: headerKeys(criteria, []string{})}
	for i := 0; i < n; i++ {
		c := &candidate{mb: sel.mbox, i: i, m: sel.mbox.Message(i), n: uint32(n), maxUID: maxUID, hr: &hr}
		ok, err := c.match(criteria)
		if err != nil {
			return nil, s.storageErr("SEARCH", err)
		}
		if !ok {
			continue
		}
		num := uint32(i + 1)
		if kind == imapserver.NumKindUID {
			num = c.m.UID
		}
		if data.Count == 0 || num < data.Min {
			data.Min = num
		}
		if num > data.Max {
			data.Max = num
		}
		data.Count++
		seqs.AddNum(uint32(i + 1))
		uids.AddNum(imap.UID(c.m.UID))
	}
	if kind == imapserver.NumKindUID {
		data.All = uids
	} else {
		data.All = seqs
	}
	return data, nil
}

// candidate is one message under test, with its text loaded lazily.
type candidate struct {
	mb     mailbox.Mailbox
	i      int
	m      mailbox.Message
	n      uint32
	maxUID uint32

	hr *headerReads // for header reads, made once per SEARCH

	raw    []byte
	hdr    *textproto.Header
	body   []byte
	loaded bool
}

func (c *candidate) load() error {
	if c.loaded {
		return nil
	}
	rc, err := c.mb.Open(c.i)
	if err != nil {
		return err
	}
	defer rc.Close()
	c.raw, err = io.ReadAll(rc)
	if err != nil {
		return err
	}
	br := bufio.NewReader(bytes.NewReader(c.raw))
	h, _ := textproto.ReadHeader(br)
	c.hdr = &h
	c.body, _ = io.ReadAll(br)
	c.loaded = true
	return nil
}

// loadHeader reads only the header, unless the whole message is loaded
// already: header keys need no more (and messages can be big).
func (c *candidate) loadHeader() error {
	if c.hdr != nil {
		return nil
	}
	h, err := c.hr.header(c.mb, c.i, nil)
	if err != nil {
		return err
	}
	c.hdr = &h
	return nil
}

// headerKeys appends the names of the header fields the criteria look at
// (lower case, ASCII) to names.
func headerKeys(cr *imap.SearchCriteria, names []string) []string {
	if !cr.SentSince.IsZero() || !cr.SentBefore.IsZero() {
		names = append(names, "date")
	}
	for _, hf := range cr.Header {
		k := []byte(hf.Key)
		for i, c := range k {
			if 'A' <= c && c <= 'Z' {
				k[i] = c + 'a' - 'A'
			}
		}
		names = append(names, string(k))
	}
	for i := range cr.Not {
		names = headerKeys(&cr.Not[i], names)
	}
	for i := range cr.Or {
		names = headerKeys(&cr.Or[i][0], names)
		names = headerKeys(&cr.Or[i][1], names)
	}
	return names
}

func containsFold(haystack []byte, needle string) bool {
	if needle == "" {
		return true
	}
	return bytes.Contains(bytes.ToLower(haystack), []byte(strings.ToLower(needle)))
}

// decodeHeader decodes RFC 2047 encoded words (UTF-8, ISO-8859-1 and
// US-ASCII; others stay as they are) so that SUBJECT "Grüße" finds
// "=?UTF-8?B?R3LDvMOfZQ==?=".
func decodeHeader(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := headerDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

var headerDecoder = new(mime.WordDecoder)

// isAddressKey reports whether a SEARCH header key names an address
// header: FROM, TO, CC and BCC (and HEADER with those names) also match
// the parsed addresses (see addressForms).
func isAddressKey(key string) bool {
	for _, k := range []string{"From", "To", "Cc", "Bcc"} {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	return false
}

func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (c *candidate) match(cr *imap.SearchCriteria) (bool, error) {
	for _, set := range cr.SeqNum {
		if !seqIn(set, uint32(c.i+1), c.n) {
			return false, nil
		}
	}
	for _, set := range cr.UID {
		if !uidIn(set, c.m.UID, c.maxUID) {
			return false, nil
		}
	}
	if !cr.Since.IsZero() && dateOnly(c.m.InternalDate).Before(dateOnly(cr.Since)) {
		return false, nil
	}
	if !cr.Before.IsZero() && !dateOnly(c.m.InternalDate).Before(dateOnly(cr.Before)) {
		return false, nil
	}
	if cr.Larger > 0 && c.m.Size <= cr.Larger {
		return false, nil
	}
	if cr.Smaller > 0 && c.m.Size >= cr.Smaller {
		return false, nil
	}
	flags := messageFlags(c.m)
	has := func(f imap.Flag) bool {
		for _, g := range flags {
			if strings.EqualFold(string(g), string(f)) {
				return true
			}
		}
		return false
	}
	for _, f := range cr.Flag {
		if !has(f) {
			return false, nil
		}
	}
	for _, f := range cr.NotFlag {
		if has(f) {
			return false, nil
		}
	}
	if !cr.SentSince.IsZero() || !cr.SentBefore.IsZero() || len(cr.Header) > 0 || len(cr.Body) > 0 || len(cr.Text) > 0 {
		load := c.loadHeader
		if len(cr.Body) > 0 || len(cr.Text) > 0 {
			load = c.load
		}
		if err := load(); err != nil {
			return false, err
		}
		if !cr.SentSince.IsZero() || !cr.SentBefore.IsZero() {
			sent, err := mail.ParseDate(c.hdr.Get("Date"))
			if err != nil {
				return false, nil
			}
			if !cr.SentSince.IsZero() && dateOnly(sent).Before(dateOnly(cr.SentSince)) {
				return false, nil
			}
			if !cr.SentBefore.IsZero() && !dateOnly(sent).Before(dateOnly(cr.SentBefore)) {
				return false, nil
			}
		}
		for _, hf := range cr.Header {
			vals := c.hdr.Values(hf.Key)
			if len(vals) == 0 {
				return false, nil
			}
			found := false
			for _, v := range vals {
				if containsFold([]byte(v), hf.Value) || containsFold([]byte(decodeHeader(v)), hf.Value) {
					found = true
					break
				}
				if isAddressKey(hf.Key) {
					for _, f := range addressForms(v) {
						if containsFold([]byte(f), hf.Value) {
							found = true
							break
						}
					}
					if found {
						break
					}
				}
			}
			if !found {
				return false, nil
			}
		}
		for _, b := range cr.Body {
			if !containsFold(c.body, b) {
				return false, nil
			}
		}
		for _, t := range cr.Text {
			if !containsFold(c.raw, t) {
				return false, nil
			}
		}
	}
	for i := range cr.Not {
		ok, err := c.match(&cr.Not[i])
		if err != nil || ok {
			return false, err
		}
	}
	for _, pair := range cr.Or {
		a, err := c.match(&pair[0])
		if err != nil {
			return false, err
		}
		if a {
			continue
		}
		b, err := c.match(&pair[1])
		if err != nil || !b {
			return false, err
		}
	}
	return true, nil
}
